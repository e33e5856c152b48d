import { assert } from "../assert";
import { checkUint64, checkValidSubtree } from "./preconditions";
import { ProofError } from "./proofError";
import { largestPowerOfTwoBelow, type LeafRange } from "./subtree";

/**
 * Deciding what a proof holds, kept apart from verifying it and from storage: each function returns the
 * leaf ranges whose hashes are the proof's elements, in proof order. Every range is a valid subtree, so a
 * caller gets each element as foldRangeHashes(rangeNodes(range.start, range.end).map(readStoredNodeHash)).
 * The verifier (verify.ts) lays out proofs with these same functions, so the two cannot drift apart.
 */

/** A proof in a tree of at most 2^64 - 1 leaves has at most 64 hashes: a bound for reading proofs from outside. */
export const PROOF_HASHES_MAX = 64;

/** RFC 6962 PATH(index, D[size]): the inclusion proof of leaf `index`. Requires index < size. */
export function inclusionProofRanges(index: bigint, size: bigint): LeafRange[] {
  checkUint64("leaf index", index);
  checkUint64("tree size", size);
  if (index >= size) {
    throw new ProofError("INDEX_OUT_OF_RANGE", `index ${index} is beyond tree size ${size}`);
  }
  return subtreeProofRanges(index, index + 1n, size);
}

/**
 * RFC 6962 PROOF(first, D[second]): the consistency proof from the tree of size `first` to the tree of size
 * `second`; [] when they are equal. Requires 0 < first <= second: every tree extends the empty tree, so a
 * proof from size 0 would prove nothing (callers special-case size 0 themselves, see verifyConsistency).
 */
export function consistencyProofRanges(first: bigint, second: bigint): LeafRange[] {
  checkUint64("first tree size", first);
  checkUint64("second tree size", second);
  if (first > second) {
    throw new ProofError("SIZE_ORDER", `first tree size ${first} is larger than second tree size ${second}`);
  }
  if (first === 0n) {
    throw new ProofError("EMPTY_TREE", `there is no consistency proof from the empty tree to tree size ${second}`);
  }
  return subtreeProofRanges(0n, first, second);
}

/**
 * SUBTREE_PROOF(start, end, D[size]) (Merkle Tree Certificates draft, §4.4): shows that the valid subtree
 * [start, end) is part of the tree of size `size`. Requires [start, end) valid and end <= size.
 */
export function subtreeConsistencyProofRanges(start: bigint, end: bigint, size: bigint): LeafRange[] {
  checkUint64("subtree start", start);
  checkUint64("subtree end", end);
  checkUint64("tree size", size);
  checkValidSubtree(start, end);
  if (end > size) {
    throw new ProofError("SIZE_ORDER", `subtree [${start}, ${end}) ends beyond tree size ${size}`);
  }
  return subtreeProofRanges(start, end, size);
}

/**
 * The one recursion behind all three proofs, unrolled. SUB(start, end, D[n], known) is
 *   [] if known, else [MTH(D[n])]                                  when [start, end) = [0, n)
 *   SUB(start, end, D[0:k], known) + [MTH(D[k:n])]                 when end <= k
 *   SUB(start - k, end - k, D[k:n], known) + [MTH(D[0:k])]         when start >= k
 *   SUB(0, end - k, D[k:n], false) + [MTH(D[0:k])]                 otherwise (then start = 0)
 * with k the largest power of two below n, starting from known = true. PATH(m, D[n]) is the proof of
 * [m, m + 1) and PROOF(m, D[n]) that of [0, m). This walks down from the root in absolute leaf positions,
 * collecting the outermost element first, and returns them innermost first, as the proof lists them.
 */
function subtreeProofRanges(start: bigint, end: bigint, size: bigint): LeafRange[] {
  const ranges: LeafRange[] = [];
  let nodeStart = 0n;
  let nodeEnd = size;
  // The part of the subtree that the proof has not yet covered is [uncovered, end).
  let uncovered = start;
  while (uncovered !== nodeStart || end !== nodeEnd) {
    const split = nodeStart + largestPowerOfTwoBelow(nodeEnd - nodeStart);
    if (end <= split) {
      ranges.push({ start: split, end: nodeEnd });
      nodeEnd = split;
    } else {
      ranges.push({ start: nodeStart, end: split });
      if (uncovered < split) {
        // The subtree straddles the split, which a valid subtree can only do from the current node's
        // first leaf: the left child is then both a proof element and part of the subtree, and the
        // subtree's own hash will have to be rebuilt from the proof (the recursion's known = false).
        assert(uncovered === nodeStart, `[${start}, ${end}) straddles ${split} from inside [${nodeStart}, ${nodeEnd})`);
        uncovered = split;
      }
      nodeStart = split;
    }
  }
  if (uncovered !== start) {
    // known = false: the node the walk ended on is the innermost element.
    ranges.push({ start: nodeStart, end: nodeEnd });
  }
  return ranges.reverse();
}
