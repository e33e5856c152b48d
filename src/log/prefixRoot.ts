import { CompactRange } from "./compactRange";
import { inclusionProofRanges } from "./proof";
import { ProofError } from "./proofError";
import { verifyInclusion } from "./verify";

/**
 * The root of the tree of the first `prefixSize` leaves, read off an inclusion proof of leaf
 * prefixSize - 1 in the tree of `size` leaves, once that proof has verified against `root`.
 *
 * The proof's elements that lie left of the leaf are perfect nodes covering [0, prefixSize - 1),
 * largest first once sorted by position: the compact range of that range. Appending the leaf gives
 * the compact range of the prefix, hence its root. Because the proof verifies against `root`, these
 * are the larger tree's own nodes, so a result that differs from a root signed for size prefixSize
 * shows anyone that the two trees cannot both be true. A failed consistency proof only shows that
 * somebody sent a bad proof; this shows which history a signed root belongs to.
 *
 * Requires 1 <= prefixSize <= size. Throws ProofError when the proof does not verify.
 */
export function prefixRootFromInclusionProof(
  prefixSize: bigint,
  size: bigint,
  lastLeafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): Buffer {
  if (prefixSize === 0n) {
    throw new ProofError("EMPTY_TREE", `the empty prefix has no last leaf to prove; its root is the empty-tree hash`);
  }
  const lastIndex = prefixSize - 1n;
  verifyInclusion(lastIndex, size, lastLeafHash, proof, root);
  const leftNodes = inclusionProofRanges(lastIndex, size)
    .map((range, position) => ({ start: range.start, end: range.end, hash: proof[position]! }))
    .filter((node) => node.end <= lastIndex)
    .sort((a, b) => (a.start < b.start ? -1 : 1));
  const prefix = CompactRange.fromHashes(lastIndex, leftNodes.map((node) => node.hash));
  prefix.append(lastLeafHash);
  return prefix.root();
}
