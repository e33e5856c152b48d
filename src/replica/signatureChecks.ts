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

/** Checks on the calling thread, remembering outcomes (verifyInDomain): for the simulator, tests, and a node's small requests. */
export const inThreadVerifier: SignatureVerifier = {
  verify: async (domain, checks) => checks.map((check) => verifyInDomain(check.key, domain, check.bytes, check.signature)),
};

/**
 * The statements whose signatures were verified: a batch's check does not verify them again. Held by
 * the parsed statement itself, which carries its own signature, so a forged signature can never
 * ride on a checked one; and an entry goes once nothing holds its statement. (Keying by id and
 * signature cost a copy and a string of 96 bytes per lookup, several lookups per statement.)
 */
export class VerifiedStatements {
  private readonly verified = new WeakSet<SignedStatement>();

  has(signed: SignedStatement): boolean {
    return this.verified.has(signed);
  }

  add(signed: SignedStatement): void {
    this.verified.add(signed);
  }
}
