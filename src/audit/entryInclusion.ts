import { HashfedError } from "../errors";
import { ProofError, verifyInclusion } from "../log";
import type { VerifiedCheckpoint } from "./cosignedCheckpoint";

/** An inclusion proof as a node served it: the leaf hash it claims for the index, and the proof. */
export interface ServedInclusionProof {
  readonly leafHash: Buffer;
  readonly hashes: Buffer[];
}

/**
 * Checks that the entry whose leaf hash is `leafHash` is entry `index` of the checkpoint's tree,
 * by the proof `source` served. When it is not, the error is as precise as the proof allows: if the
 * proof verifies with the leaf hash the node itself claims, the entry it served was swapped for
 * another (ENTRY_TAMPERED, and the proof shows it); otherwise the node cannot prove the entry at all
 * (ENTRY_UNPROVEN).
 */
export function checkEntryInclusion(index: bigint, leafHash: Buffer, served: ServedInclusionProof, checkpoint: VerifiedCheckpoint, source: string): void {
  const { size, root } = checkpoint.checkpoint;
  try {
    verifyInclusion(index, size, leafHash, served.hashes, root);
    return;
  } catch (error) {
    if (!(error instanceof ProofError)) throw error;
    if (!served.leafHash.equals(leafHash) && proves(index, served, checkpoint)) {
      throw new HashfedError(
        "invalid",
        "ENTRY_TAMPERED",
        `entry ${index} as served by ${source} is not the entry the checkpoint of size ${size} commits to: the served entry's leaf hash is ${leafHash.toString("hex")}, the tree's leaf ${index} is ${served.leafHash.toString("hex")} (shown by an inclusion proof against the checkpoint's root)`,
      );
    }
    throw new HashfedError("invalid", "ENTRY_UNPROVEN", `${source} cannot prove entry ${index} part of the checkpoint of size ${size}: ${error.message}`);
  }
}

function proves(index: bigint, served: ServedInclusionProof, checkpoint: VerifiedCheckpoint): boolean {
  try {
    verifyInclusion(index, checkpoint.checkpoint.size, served.leafHash, served.hashes, checkpoint.checkpoint.root);
    return true;
  } catch (error) {
    if (error instanceof ProofError) return false;
    throw error;
  }
}
