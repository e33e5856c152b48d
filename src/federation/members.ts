import { parseVerifierKey, type VerifierKey } from "../crypto/keys";
import { HashfedError } from "../errors";
import { addressKey, checkAddress } from "./address";
import type { Member, MemberRole } from "./federation";
import { describe, expectArray, expectString, fieldError, fieldPath, indexPath, objectFields } from "./fields";

/**
 * Bounds the member list: every validator exchanges votes with every other (n^2 messages a height)
 * and a checkpoint carries one signature per validator. The GIFCT database had 27 members in 2023.
 */
export const MEMBERS_MAX = 256;

/**
 * Member names are domain-like (lower-case letters, digits, '.', '-'; 1 to 253 characters, starting
 * and ending with a letter or digit). They are also the key names of the members' keys, and this
 * form satisfies the signed-note key-name rules (no spaces, no '+').
 */
export const MEMBER_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/;

const ROLES: readonly MemberRole[] = ["validator", "observer"];

/** The members at `path`, sorted by name, after every per-member and cross-member rule. */
export function parseMembers(value: unknown, path: string): Member[] {
  const list = expectArray(value, path);
  if (list.length === 0) throw fieldError(path, "must list at least one member");
  if (list.length > MEMBERS_MAX) throw fieldError(path, `must list at most ${MEMBERS_MAX} members, got ${list.length}`);
  const members = list.map((item, index) => parseMember(item, indexPath(path, index)));
  checkUnique(members, path, "name", (member) => member.name);
  checkUnique(members, path, "key", (member) => member.key.publicKey.toString("hex"));
  checkUnique(members, path, "address", (member) => addressKey(member.address));
  if (!members.some((member) => member.role === "validator")) {
    throw fieldError(path, 'at least one member must have the role "validator"');
  }
  return members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function parseMember(value: unknown, path: string): Member {
  const fields = objectFields(value, path, ["name", "key", "address", "role"]);
  const name = expectString(fields.name, fieldPath(path, "name"));
  if (!MEMBER_NAME_PATTERN.test(name)) {
    throw fieldError(
      fieldPath(path, "name"),
      `a member name is 1 to 253 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit, got ${describe(name)}`,
    );
  }
  const key = parseMemberKey(fields.key, fieldPath(path, "key"), name);
  const address = expectString(fields.address, fieldPath(path, "address"));
  checkAddress(address, fieldPath(path, "address"));
  const role = fields.role;
  if (!ROLES.includes(role as MemberRole)) {
    throw fieldError(fieldPath(path, "role"), `must be "validator" or "observer", got ${describe(role)}`);
  }
  return Object.freeze({ name, key, address, role: role as MemberRole });
}

function parseMemberKey(value: unknown, path: string, memberName: string): VerifierKey {
  const text = expectString(value, path);
  let key: VerifierKey;
  try {
    key = parseVerifierKey(text);
  } catch (error) {
    if (error instanceof HashfedError) throw fieldError(path, error.message);
    throw error;
  }
  if (key.name !== memberName) {
    throw fieldError(path, `the key name ${JSON.stringify(key.name)} does not match the member name ${JSON.stringify(memberName)}`);
  }
  return key;
}

/**
 * Names, keys and addresses must each be unique. Keys are compared by public key, not text: two
 * names on one key would give one operator two votes.
 */
function checkUnique(members: readonly Member[], path: string, field: string, keyOf: (member: Member) => string): void {
  const firstIndex = new Map<string, number>();
  members.forEach((member, index) => {
    const key = keyOf(member);
    const first = firstIndex.get(key);
    if (first !== undefined) {
      throw fieldError(fieldPath(indexPath(path, index), field), `the same ${field} as ${indexPath(path, first)} (${members[first]!.name}); each member's ${field} must be unique`);
    }
    firstIndex.set(key, index);
  });
}
