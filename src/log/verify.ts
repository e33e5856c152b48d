import { assert } from "../assert";
import { asBuffer, toHex } from "./bytes";
import { EMPTY_ROOT, HASH_BYTES, hashChildren } from "./hasher";
import { checkUint64, checkValidSubtree } from "./preconditions";
import { consistencyProofRanges, inclusionProofRanges, subtreeConsistencyProofRanges } from "./proof";
import { ProofError, type ProofErrorCode } from "./proofError";
import type { LeafRange } from "./subtree";

export { ProofError, type ProofErrorCode } from "./proofError";

/**
 * Verifying RFC 9162 inclusion and consistency proofs and their subtree generalisations (Merkle Tree
 * Certificates draft). Each verifier lays the proof out with the same function that generates it
 * (proof.ts), checks its length and its elements' lengths before hashing anything, then climbs from the
 * innermost element to the root, rebuilding two hashes on the way: the tree's root, and the hash of the
 * subtree the proof starts from. Every failure is a ProofError.
 *
 * Proof elements and leaf hashes must be 32 bytes: without the leaf check, a one-leaf tree would "contain"
 * an empty leaf hash under an empty root, as an upstream vector probes. Roots and subtree hashes are only
 * compared byte for byte, so one of a wrong length never matches a computed hash; the trivial proofs
 * (equal sizes) compare two given hashes with each other, and the upstream vectors accept those whatever
 * their length.
 */

/** The root that `proof` leads to from leaf `index` of a tree of `size` leaves. Requires index < size. */
export function rootFromInclusionProof(index: bigint, size: bigint, leafHash: Uint8Array, proof: Uint8Array[]): Buffer {
  return rootFromPath(index, size, leafHash, proof, () => `an inclusion proof for index ${index} in a tree of size ${size}`);
}

export function verifyInclusion(index: bigint, size: bigint, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): void {
  const calculated = rootFromInclusionProof(index, size, leafHash, proof);
  expectHash("ROOT_MISMATCH", `the root of the tree of size ${size}`, root, calculated);
}

/**
 * Verifies that the tree of size `second` extends the tree of size `first`. Equal sizes need an empty
 * proof and equal roots. Size 0 is refused (EMPTY_TREE) even when both sizes are 0, as upstream does:
 * every tree extends the empty tree, so there is nothing to prove. A caller that trusts on first use (the
 * C2SP witness protocol accepts "old 0" with an empty proof) handles size 0 itself, checking that a size-0
 * root is EMPTY_ROOT.
 */
export function verifyConsistency(
  first: bigint,
  second: bigint,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: Uint8Array[],
): void {
  const ranges = consistencyProofRanges(first, second);
  const describe = () => `a consistency proof from tree size ${first} to ${second}`;
  const rebuilt = rebuild({ start: 0n, end: first }, firstRoot, ranges, proof, describe);
  expectHash("SUBTREE_MISMATCH", `the root of the tree of size ${first}`, firstRoot, rebuilt.subtreeHash);
  expectHash("ROOT_MISMATCH", `the root of the tree of size ${second}`, secondRoot, rebuilt.root);
}

/** Verifies that leaf `index` is in the valid subtree [start, end) whose hash is `subtreeRoot`. */
export function verifySubtreeInclusion(
  index: bigint,
  start: bigint,
  end: bigint,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  subtreeRoot: Uint8Array,
): void {
  checkUint64("leaf index", index);
  checkUint64("subtree start", start);
  checkUint64("subtree end", end);
  checkValidSubtree(start, end);
  if (index < start || index >= end) {
    throw new ProofError("INDEX_OUT_OF_RANGE", `index ${index} is outside subtree [${start}, ${end})`);
  }
  // A valid subtree is hashed exactly like a tree of end - start leaves.
  const describe = () => `an inclusion proof for index ${index} in subtree [${start}, ${end})`;
  const calculated = rootFromPath(index - start, end - start, leafHash, proof, describe);
  expectHash("ROOT_MISMATCH", `the hash of subtree [${start}, ${end})`, subtreeRoot, calculated);
}

/**
 * Verifies that the valid subtree [start, end), whose hash is `subtreeHash`, is part of the tree of size
 * `size` with root `root`. An empty subtree [s, s) with s <= size is accepted with an empty proof when its
 * hash is EMPTY_ROOT, whatever the root: it is part of every tree that reaches s. The upstream vectors
 * require this, although verifyConsistency refuses the matching case of size 0.
 */
export function verifySubtreeConsistency(
  start: bigint,
  end: bigint,
  size: bigint,
  subtreeHash: Uint8Array,
  root: Uint8Array,
  proof: Uint8Array[],
): void {
  if (start === end) {
    verifyEmptySubtree(start, size, subtreeHash, proof);
    return;
  }
  const ranges = subtreeConsistencyProofRanges(start, end, size);
  const describe = () => `a consistency proof from subtree [${start}, ${end}) to tree size ${size}`;
  const rebuilt = rebuild({ start, end }, subtreeHash, ranges, proof, describe);
  expectHash("SUBTREE_MISMATCH", `the hash of subtree [${start}, ${end})`, subtreeHash, rebuilt.subtreeHash);
  expectHash("ROOT_MISMATCH", `the root of the tree of size ${size}`, root, rebuilt.root);
}

function rootFromPath(index: bigint, size: bigint, leafHash: Uint8Array, proof: Uint8Array[], describe: () => string): Buffer {
  const ranges = inclusionProofRanges(index, size);
  if (leafHash.length !== HASH_BYTES) {
    throw new ProofError("BAD_LEAF_HASH", `the leaf hash is ${leafHash.length} bytes, not a ${HASH_BYTES}-byte hash`);
  }
  return rebuild({ start: index, end: index + 1n }, leafHash, ranges, proof, describe).root;
}

function verifyEmptySubtree(position: bigint, size: bigint, subtreeHash: Uint8Array, proof: Uint8Array[]): void {
  checkUint64("subtree start", position);
  checkUint64("tree size", size);
  if (position > size) {
    throw new ProofError("SIZE_ORDER", `empty subtree [${position}, ${position}) lies beyond tree size ${size}`);
  }
  checkProofShape(proof, 0, () => `a consistency proof from an empty subtree`);
  if (!asBuffer(subtreeHash).equals(EMPTY_ROOT)) {
    const subtree = `empty subtree [${position}, ${position})`;
    throw new ProofError("SUBTREE_MISMATCH", `${subtree} must have the empty-tree hash ${toHex(EMPTY_ROOT)}, not ${toHex(subtreeHash)}`);
  }
}

interface Rebuilt {
  /** The hash of the subtree the proof starts from, as the proof's own elements make it. */
  readonly subtreeHash: Buffer;
  readonly root: Buffer;
}

/**
 * Climbs from `subtree` to the root along `ranges`, the leaf ranges of the proof's elements in proof order
 * (from proof.ts). Each element is the sibling of the node reached so far: it ends where that node starts
 * (a left sibling) or starts where it ends (a right sibling). A left sibling inside the subtree is part of
 * the subtree as well, so it also extends the subtree's rebuilt hash. When the subtree is not itself a
 * node of the tree, the proof opens with a node inside it (RFC 6962's SUBPROOF with b = false), and the
 * climb starts from that node instead of from the subtree hash given.
 */
function rebuild(
  subtree: LeafRange,
  subtreeHash: Uint8Array,
  ranges: LeafRange[],
  proof: Uint8Array[],
  describe: () => string,
): Rebuilt {
  checkProofShape(proof, ranges.length, describe);
  let nodeStart = subtree.start;
  let nodeEnd = subtree.end;
  let nodeHash = subtreeHash;
  let partHash = subtreeHash;
  let position = 0;
  if (ranges.length > 0 && ranges[0].start >= subtree.start && ranges[0].end <= subtree.end) {
    ({ start: nodeStart, end: nodeEnd } = ranges[0]);
    nodeHash = partHash = proof[0];
    position = 1;
  }
  for (; position < ranges.length; position++) {
    const sibling = ranges[position];
    if (sibling.end === nodeStart) {
      nodeHash = hashChildren(proof[position], nodeHash);
      if (sibling.start >= subtree.start) partHash = hashChildren(proof[position], partHash);
      nodeStart = sibling.start;
    } else {
      assert(sibling.start === nodeEnd, `proof range [${sibling.start}, ${sibling.end}) is not beside [${nodeStart}, ${nodeEnd})`);
      nodeHash = hashChildren(nodeHash, proof[position]);
      nodeEnd = sibling.end;
    }
  }
  assert(nodeStart === 0n, `the proof climbed to [${nodeStart}, ${nodeEnd}), not to the root`);
  return { subtreeHash: asBuffer(partHash), root: asBuffer(nodeHash) };
}

function checkProofShape(proof: Uint8Array[], expectedLength: number, describe: () => string): void {
  if (proof.length !== expectedLength) {
    throw new ProofError("BAD_PROOF_LENGTH", `${describe()} has ${expectedLength} hashes, but this one has ${proof.length}`);
  }
  for (let position = 0; position < proof.length; position++) {
    if (proof[position].length !== HASH_BYTES) {
      const length = proof[position].length;
      throw new ProofError("BAD_PROOF_ELEMENT", `proof element ${position} is ${length} bytes, not a ${HASH_BYTES}-byte hash`);
    }
  }
}

function expectHash(code: ProofErrorCode, name: string, expected: Uint8Array, calculated: Uint8Array): void {
  if (!asBuffer(expected).equals(asBuffer(calculated))) {
    throw new ProofError(code, `the proof does not match ${name}: expected ${toHex(expected)}, calculated ${toHex(calculated)}`);
  }
}
