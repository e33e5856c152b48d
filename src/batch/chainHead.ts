import { CompactRange } from "../log/compactRange";

/** Where the replicated log stands after the last committed batch. */
export interface ChainHead {
  /** Height of the last committed batch; 0 before the first. */
  readonly height: bigint;
  /** id of the last committed batch; 32 zero bytes before the first. */
  readonly headerHash: Buffer;
  /** The Merkle tree's right edge: its size and root. */
  readonly range: CompactRange;
}

export const GENESIS_HEADER_HASH = Buffer.alloc(32);

export function genesisHead(): ChainHead {
  return { height: 0n, headerHash: GENESIS_HEADER_HASH, range: CompactRange.empty() };
}
