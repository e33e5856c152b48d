import type { VerifierKey } from "../crypto/keys";
import { type SigningDomain, verifyInDomain } from "../crypto/signingDomain";
import type { SignedStatement } from "../statements";

export interface SignatureCheck {
  readonly key: VerifierKey;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Checks many signatures at once, possibly off the event loop (a node uses worker threads); the
 * answers come in order. Statement signatures are most of a replica's CPU: every node checks every
 * member's statements.
 */
export interface SignatureVerifier {
  verify(domain: SigningDomain, checks: readonly SignatureCheck[]): Promise<boolean[]>;
}

/** Checks on the calling thread: for the simulator and tests. */
export const inThreadVerifier: SignatureVerifier = {
  verify: async (domain, checks) => checks.map((check) => verifyInDomain(check.key, domain, check.bytes, check.signature)),
};

/** Verified statements kept at most; the oldest are forgotten first. */
const VERIFIED_MAX = 1 << 20;

/**
 * The statements whose exact (statement, signature) pair was verified: a batch's check does not
 * verify them again. Keyed by statement id and signature together, never the id alone, which names
 * the statement without its signature and so would let a forged signature ride on a checked one.
 */
export class VerifiedStatements {
  private readonly verified = new Set<string>();

  has(signed: SignedStatement): boolean {
    return this.verified.has(nameOf(signed));
  }

  add(signed: SignedStatement): void {
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.values().next().value!);
    this.verified.add(nameOf(signed));
  }
}

function nameOf(signed: SignedStatement): string {
  return Buffer.concat([signed.id, signed.signature]).toString("latin1");
}
