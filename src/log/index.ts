/** The pure Merkle log: hashing, addressing, proofs and their verification, the compact range, checkpoints. */
export { EMPTY_ROOT, HASH_BYTES, hashChildren, hashLeaf } from "./hasher";
export { foldRangeHashes, isValidSubtree, largestPowerOfTwoBelow, perfectNode, rangeNodes, type LeafRange, type NodeId } from "./subtree";
export { consistencyProofRanges, inclusionProofRanges, PROOF_HASHES_MAX, subtreeConsistencyProofRanges } from "./proof";
export {
  ProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
  type ProofErrorCode,
} from "./verify";
export { CompactRange, type NodeWrite } from "./compactRange";
export { prefixRootFromInclusionProof } from "./prefixRoot";
export { formatCheckpoint, parseCheckpoint, type Checkpoint } from "./checkpoint";
