import { HashfedError } from "../errors";

/**
 * Why a proof was refused, or why a proof cannot be asked for. Bounded, so usable as a metric label.
 * Every one is an operating error: indexes, sizes and proofs come from clients and peers.
 */
export type ProofErrorCode =
  /** An index, size or bound is negative or above 2^64 - 1, the largest size a checkpoint can state. */
  | "NOT_UINT64"
  /** A leaf index is not inside the tree or subtree. */
  | "INDEX_OUT_OF_RANGE"
  /** The first size is larger than the second, or a subtree ends beyond the tree. */
  | "SIZE_ORDER"
  /** A consistency proof from the empty tree: nothing to prove, see verifyConsistency. */
  | "EMPTY_TREE"
  /** [start, end) is not a valid subtree (see isValidSubtree). */
  | "INVALID_SUBTREE"
  /** The proof does not have the one length the indexes and sizes determine. */
  | "BAD_PROOF_LENGTH"
  /** A proof element is not a 32-byte hash. */
  | "BAD_PROOF_ELEMENT"
  /** A leaf hash is not a 32-byte hash. */
  | "BAD_LEAF_HASH"
  /** The proof's nodes inside the subtree (or the first tree) do not hash to the subtree hash given. */
  | "SUBTREE_MISMATCH"
  /** The proof does not lead to the root given. */
  | "ROOT_MISMATCH";

export class ProofError extends HashfedError {
  declare readonly code: ProofErrorCode;

  constructor(code: ProofErrorCode, message: string) {
    super("invalid", code, message);
    this.name = "ProofError";
  }
}
