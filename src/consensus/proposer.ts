import type { Height, Round } from "./types";

/**
 * The proposer of (height, round): validators sorted by name, index (h + r) mod n. Stateless and
 * the same at every node; every validator proposes infinitely often, as liveness requires.
 */
export function proposerOf(validators: readonly string[], height: Height, round: Round): string {
  const n = BigInt(validators.length);
  return validators[Number((height + BigInt(round)) % n)]!;
}
