import type { VerifierKey } from "../crypto/keys";
import { federationId } from "./federationId";
import { expectString, fieldError, objectFields } from "./fields";
import { parseMembers } from "./members";
import { checkLargestBatchFits, DEFAULT_PARAMETERS, type FederationParameters, parseParameters } from "./parameters";
import { parseJsonStrict } from "./strictJson";
import { DEFAULT_TAXONOMY, parseTaxonomy, type Taxonomy } from "./taxonomy";

export { federationId } from "./federationId";
export { checkLabels, DEFAULT_TAXONOMY, type Taxonomy } from "./taxonomy";
export type { FederationParameters } from "./parameters";

/**
 * The federation file (JSON) defines a federation: the log's origin, the members with their keys,
 * addresses and roles, the label taxonomy, and the parameters every node must share. Its id binds
 * every signed message to it. A Federation is immutable once parsed.
 */
export type MemberRole = "validator" | "observer";

export interface Member {
  readonly name: string;
  readonly key: VerifierKey;
  readonly address: string;
  readonly role: MemberRole;
}

export interface Federation {
  readonly origin: string;
  /** Sorted by name (UTF-16 code units), so lookups can binary-search. */
  readonly members: readonly Member[];
  /** The members with role "validator", sorted by name: the proposer order and the quorum base. */
  readonly validators: readonly Member[];
  readonly taxonomy: Taxonomy;
  /** Defaults filled in for the parameters the file leaves out. */
  readonly parameters: FederationParameters;
  /** SHA-256 of the canonical encoding of the file as written (see federationId.ts). */
  readonly id: Buffer;
  /** The file exactly as loaded, to serve to auditors and peers byte for byte. */
  readonly text: string;
}

/** Bounds what a node reads before parsing: a file with 256 members and 1024 labels is ~200 KB. */
export const FEDERATION_FILE_CHARS_MAX = 1024 * 1024;
export const ORIGIN_CHARS_MAX = 255;
/** Signing domains start with "hashfed/": an origin outside that space keeps a checkpoint from ever reading as another signed message. */
const RESERVED_ORIGIN_PREFIX = "hashfed/";

/** Parses and checks a federation file; every problem is a FEDERATION_INVALID error naming the field. */
export function parseFederation(text: string): Federation {
  if (text.length > FEDERATION_FILE_CHARS_MAX) {
    throw fieldError("", `must be at most ${FEDERATION_FILE_CHARS_MAX} characters, got ${text.length}`);
  }
  const value = parseJsonStrict(text);
  const fields = objectFields(value, "", ["origin", "members", "taxonomy"], ["parameters"]);
  const origin = parseOrigin(fields.origin, "origin");
  const members = parseMembers(fields.members, "members");
  const taxonomy = parseTaxonomy(fields.taxonomy, "taxonomy");
  const parameters = parseParameters(fields.parameters, "parameters");
  const validators = members.filter((member) => member.role === "validator");
  checkLargestBatchFits(parameters, validators.length, "parameters");
  return Object.freeze({
    origin,
    members: Object.freeze(members),
    validators: Object.freeze(validators),
    taxonomy,
    parameters,
    // The id covers the parameters in force, defaults included: see federationId.ts.
    id: federationId({ ...(value as object), parameters }),
    text,
  });
}

/**
 * The origin is the first line of every checkpoint (C2SP tlog-checkpoint), so it is one line of
 * printable ASCII, bounded, and outside the "hashfed/" signing domains.
 */
function parseOrigin(value: unknown, path: string): string {
  const origin = expectString(value, path);
  if (origin.length === 0) throw fieldError(path, "must not be empty");
  if (origin.length > ORIGIN_CHARS_MAX) throw fieldError(path, `must be at most ${ORIGIN_CHARS_MAX} characters, got ${origin.length}`);
  const offset = origin.search(/[^\x20-\x7e]/);
  if (offset >= 0) {
    const character = JSON.stringify(String.fromCodePoint(origin.codePointAt(offset)!));
    throw fieldError(path, `must be printable ASCII on one line: the character ${character} at offset ${offset} is not`);
  }
  if (origin.startsWith(RESERVED_ORIGIN_PREFIX)) {
    throw fieldError(path, `must not start with "${RESERVED_ORIGIN_PREFIX}", which is reserved for hashfed's signing domains`);
  }
  return origin;
}

/** The member called `name`, by binary search over the sorted members. */
export function memberByName(fed: Federation, name: string): Member | undefined {
  const { members } = fed;
  let low = 0;
  let high = members.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const member = members[middle]!;
    if (member.name === name) return member;
    if (member.name < name) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

export function isValidator(fed: Federation, name: string): boolean {
  return memberByName(fed, name)?.role === "validator";
}

export interface MemberSpec {
  readonly name: string;
  /** The C2SP verifier key text. */
  readonly key: string;
  readonly address: string;
  readonly role: MemberRole;
}

export interface FederationSpec {
  readonly origin: string;
  readonly members: readonly MemberSpec[];
  readonly taxonomy?: Taxonomy;
  readonly parameters?: Partial<FederationParameters>;
}

/**
 * Writes a federation file: 2-space JSON with a trailing newline, members sorted by name. Every
 * parameter is written out, defaults included, so the id pins each value: a later hashfed release
 * that changes a default cannot then split a federation into nodes that disagree. The output is
 * parsed before it is returned, so an invalid spec throws the same FEDERATION_INVALID errors.
 */
export function formatFederationFile(spec: FederationSpec): string {
  const members = [...spec.members]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, key, address, role }) => ({ name, key, address, role }));
  const taxonomy = spec.taxonomy ?? DEFAULT_TAXONOMY;
  const given = Object.entries(spec.parameters ?? {}).filter(([, value]) => value !== undefined);
  const file = {
    origin: spec.origin,
    members,
    taxonomy: { version: taxonomy.version, labels: taxonomy.labels },
    parameters: { ...DEFAULT_PARAMETERS, ...Object.fromEntries(given) },
  };
  const text = `${JSON.stringify(file, null, 2)}\n`;
  parseFederation(text);
  return text;
}
