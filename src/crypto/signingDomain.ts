import { assert } from "../assert";
import { verifyRemembered } from "./verifyRemembered";
import type { VerifierKey } from "./keys";

/**
 * Every hashfed signature outside signed notes is Ed25519 over "hashfed/v1/<domain>\n" || bytes.
 * The prefix names what kind of message was signed, so a signature over a statement can never be
 * replayed as a vote whose bytes happen to be equal, and so on for every pair of domains.
 */
export type SigningDomain = "statement" | "vote" | "proposal" | "peer-auth";

export const SIGNING_DOMAINS: readonly SigningDomain[] = ["statement", "vote", "proposal", "peer-auth"];

/** The prefix every domain starts with; signed notes must not start with a domain's prefix (signedNote.ts). */
export const SIGNING_DOMAIN_PREFIX = "hashfed/v1/";

// Built once: domainMessage runs for every signature the node makes or checks.
const domainPrefixBytes: ReadonlyMap<SigningDomain, Buffer> = new Map(
  SIGNING_DOMAINS.map((domain) => [domain, Buffer.from(`${SIGNING_DOMAIN_PREFIX}${domain}\n`, "utf8")]),
);

/** The exact bytes signed for `bytes` in `domain`. */
export function domainMessage(domain: SigningDomain, bytes: Uint8Array): Buffer {
  const prefix = domainPrefixBytes.get(domain);
  assert(prefix !== undefined, `unknown signing domain ${JSON.stringify(domain)}`);
  return Buffer.concat([prefix, bytes]);
}

/** True only if `signature` is `key`'s Ed25519 signature of `bytes` in `domain`; false for a malformed signature too. */
export function verifyInDomain(key: VerifierKey, domain: SigningDomain, bytes: Uint8Array, signature: Uint8Array): boolean {
  return verifyRemembered(key, domainMessage(domain, bytes), signature);
}

/**
 * True if `text` begins like a domain message. A member's key also signs notes, whose text is signed
 * with no prefix (the C2SP format requires it); refusing to sign such note texts keeps the two sets
 * of signed messages apart.
 */
export function startsWithDomainPrefix(text: string): boolean {
  return SIGNING_DOMAINS.some((domain) => text.startsWith(`${SIGNING_DOMAIN_PREFIX}${domain}\n`));
}
