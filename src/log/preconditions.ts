import { ProofError } from "./proofError";
import { isValidSubtree } from "./subtree";

/** Checks shared by proof generation and verification. Their inputs come from clients and peers, hence ProofErrors. */

/** The largest tree size a checkpoint can state, and so the bound on every index and size. */
export const UINT64_MAX = (1n << 64n) - 1n;

export function checkUint64(name: string, value: bigint): void {
  if (value < 0n || value > UINT64_MAX) {
    throw new ProofError("NOT_UINT64", `${name} ${value} is not between 0 and 2^64 - 1`);
  }
}

export function checkValidSubtree(start: bigint, end: bigint): void {
  if (start >= end) {
    throw new ProofError("INVALID_SUBTREE", `subtree [${start}, ${end}) is empty: it must end after it starts`);
  }
  if (!isValidSubtree(start, end)) {
    throw new ProofError(
      "INVALID_SUBTREE",
      `subtree [${start}, ${end}) is not valid: its start must be a multiple of the smallest power of two >= its length ${end - start}`,
    );
  }
}
