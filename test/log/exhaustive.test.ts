import { hashLeaf } from "../../src/log/hasher";
import { consistencyProofRanges, inclusionProofRanges, subtreeConsistencyProofRanges } from "../../src/log/proof";
import { foldRangeHashes, isValidSubtree, rangeNodes, type LeafRange } from "../../src/log/subtree";
import {
  ProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from "../../src/log/verify";
import { ReferenceTree } from "./referenceTree";

/**
 * Goal: every proof in small trees is the one RFC 6962 defines, verifies, and stops verifying when anything
 * about it changes. Method: for every tree size up to 64 (32 for subtrees), lay out each proof with the
 * *ProofRanges functions, read its elements as a store would (rangeNodes + foldRangeHashes over the
 * reference tree's perfect-node hashes), compare with the reference tree's PATH / PROOF / SUBTREE_PROOF,
 * verify, then verify mutants. Failures are collected with their names, so one run reports them all.
 *
 * Mutating a proof's elements or the hashes it is checked against must always fail. Mutating an index or
 * a size must fail too, except where the mutated parameters make the verifier perform exactly the same
 * hash combinations (same hashingShape): then nothing can tell them apart, and verification must pass.
 * That happens to most size (and second size) ± 1 mutants, never to an index or first size mutant: the
 * inclusion proof of leaf 0 in a tree of 3 leaves, read as a tree of 4, combines [leaf 2] exactly as it
 * would [node (2, 4)]. A proof is only meaningful against a (size, root) pair that a signature binds.
 */

const LEAF_COUNT_MAX = 64;
const SUBTREE_LEAF_COUNT_MAX = 32;
const leafHashes = Array.from({ length: LEAF_COUNT_MAX }, (_, index) => hashLeaf(Buffer.from(`entry ${index}`)));
const reference = new ReferenceTree(leafHashes);
const sizes = Array.from({ length: LEAF_COUNT_MAX }, (_, position) => position + 1);
const subtreeSizes = sizes.filter((size) => size <= SUBTREE_LEAF_COUNT_MAX);

/** The proof's elements as a caller backed by stored perfect-node hashes would read them. */
function readProof(ranges: LeafRange[]): Buffer[] {
  return ranges.map((range) =>
    foldRangeHashes(rangeNodes(range.start, range.end).map((node) => reference.nodeHash(node.level, Number(node.index)))),
  );
}

function sameHashes(left: Buffer[], right: Buffer[]): boolean {
  return left.length === right.length && left.every((hash, position) => hash.equals(right[position]));
}

function flipBit(hash: Uint8Array): Buffer {
  const copy = Buffer.from(hash);
  copy[0] ^= 0x08;
  return copy;
}

/** "ok", or the code of the ProofError thrown; anything else thrown is a bug and fails the test. */
function outcome(verify: () => void): string {
  try {
    verify();
    return "ok";
  } catch (error) {
    if (error instanceof ProofError) return error.code;
    throw error;
  }
}

/** Proofs whose elements differ from `proof`'s: none of them may verify. */
function corruptedProofs(proof: Buffer[], extra: Buffer): Array<[string, Buffer[]]> {
  const mutants: Array<[string, Buffer[]]> = proof.map((_, flipped) => [
    `element ${flipped} with a flipped bit`,
    proof.map((element, position) => (position === flipped ? flipBit(element) : element)),
  ]);
  mutants.push(["an element appended", [...proof, extra]], ["an element prepended", [extra, ...proof]]);
  if (proof.length > 0) {
    mutants.push(["the last element dropped", proof.slice(0, -1)], ["the first element dropped", proof.slice(1)]);
  }
  return mutants;
}

/**
 * The hash combinations a verifier performs for a proof laid out by `ranges` from `subtree`: B when the
 * proof opens with a node inside the subtree, I for a left sibling inside it, L and R for left and right
 * siblings outside it. Undefined when the parameters are refused outright.
 */
function hashingShape(subtree: LeafRange, layout: () => LeafRange[]): string | undefined {
  let ranges: LeafRange[];
  try {
    ranges = layout();
  } catch (error) {
    if (error instanceof ProofError) return undefined;
    throw error;
  }
  const inside = (range: LeafRange) => range.start >= subtree.start && range.end <= subtree.end;
  return ranges
    .map((range, position) => (inside(range) ? (position === 0 ? "B" : "I") : range.end <= subtree.start ? "L" : "R"))
    .join("");
}

interface ParameterMutant {
  readonly name: string;
  readonly shape: string | undefined;
  readonly verify: () => void;
}

function checkParameterMutant(failures: string[], originalShape: string | undefined, mutant: ParameterMutant): void {
  const result = outcome(mutant.verify);
  if (mutant.shape === originalShape && result !== "ok") {
    failures.push(`${mutant.name}: same hashing shape ${originalShape}, yet refused with ${result}`);
  }
  if (mutant.shape !== originalShape && result === "ok") {
    failures.push(`${mutant.name}: verified although its hashing shape is ${mutant.shape}, not ${originalShape}`);
  }
}

function checkCorruptions(failures: string[], name: string, proof: Buffer[], extra: Buffer, verify: (proof: Buffer[]) => void): void {
  for (const [mutation, mutant] of corruptedProofs(proof, extra)) {
    if (outcome(() => verify(mutant)) === "ok") failures.push(`${name}: ${mutation} verified`);
  }
}

function checkInclusionProofs(size: number, failures: string[]): void {
  const root = reference.hash(0, size);
  for (let leaf = 0; leaf < size; leaf++) {
    const name = `leaf ${leaf} of ${size}`;
    const [index, treeSize] = [BigInt(leaf), BigInt(size)];
    const shapeOf = (i: bigint, n: bigint) => hashingShape({ start: i, end: i + 1n }, () => inclusionProofRanges(i, n));
    const proof = readProof(inclusionProofRanges(index, treeSize));
    const leafHash = leafHashes[leaf];
    if (!sameHashes(proof, reference.path(leaf, 0, size))) failures.push(`${name}: proof differs from PATH`);
    if (!rootFromInclusionProof(index, treeSize, leafHash, proof).equals(root)) failures.push(`${name}: wrong root`);
    const verify = (i: bigint, n: bigint, hash: Buffer, elements: Buffer[]) => () => verifyInclusion(i, n, hash, elements, root);
    if (outcome(verify(index, treeSize, leafHash, proof)) !== "ok") failures.push(`${name}: refused`);
    if (outcome(verify(index, treeSize, flipBit(leafHash), proof)) === "ok") failures.push(`${name}: wrong leaf verified`);
    const wrongRoot = () => verifyInclusion(index, treeSize, leafHash, proof, flipBit(root));
    if (outcome(wrongRoot) === "ok") failures.push(`${name}: wrong root verified`);
    checkCorruptions(failures, name, proof, root, (mutant) => verifyInclusion(index, treeSize, leafHash, mutant, root));
    const original = shapeOf(index, treeSize);
    for (const [mutation, i, n] of [
      ["index - 1", index - 1n, treeSize],
      ["index + 1", index + 1n, treeSize],
      ["size - 1", index, treeSize - 1n],
      ["size + 1", index, treeSize + 1n],
    ] as const) {
      const mutant = { name: `${name}, ${mutation}`, shape: shapeOf(i, n), verify: verify(i, n, leafHash, proof) };
      checkParameterMutant(failures, original, mutant);
    }
  }
}

function checkConsistencyProofs(second: number, failures: string[]): void {
  const secondRoot = reference.hash(0, second);
  for (let first = 1; first <= second; first++) {
    const name = `${first} -> ${second}`;
    const [firstSize, secondSize] = [BigInt(first), BigInt(second)];
    const shapeOf = (m: bigint, n: bigint) => hashingShape({ start: 0n, end: m }, () => consistencyProofRanges(m, n));
    const firstRoot = reference.hash(0, first);
    const proof = readProof(consistencyProofRanges(firstSize, secondSize));
    if (!sameHashes(proof, reference.consistency(first, second))) failures.push(`${name}: proof differs from PROOF`);
    const verify = (m: bigint, n: bigint, roots: [Buffer, Buffer], elements: Buffer[]) => () =>
      verifyConsistency(m, n, roots[0], roots[1], elements);
    if (outcome(verify(firstSize, secondSize, [firstRoot, secondRoot], proof)) !== "ok") failures.push(`${name}: refused`);
    const wrongRoots: Array<[string, [Buffer, Buffer]]> = [
      ["wrong first root", [flipBit(firstRoot), secondRoot]],
      ["wrong second root", [firstRoot, flipBit(secondRoot)]],
    ];
    if (first !== second) wrongRoots.push(["swapped roots", [secondRoot, firstRoot]]);
    for (const [mutation, roots] of wrongRoots) {
      if (outcome(verify(firstSize, secondSize, roots, proof)) === "ok") failures.push(`${name}: ${mutation} verified`);
    }
    checkCorruptions(failures, name, proof, secondRoot, (mutant) => verify(firstSize, secondSize, [firstRoot, secondRoot], mutant)());
    const original = shapeOf(firstSize, secondSize);
    for (const [mutation, m, n] of [
      ["first - 1", firstSize - 1n, secondSize],
      ["first + 1", firstSize + 1n, secondSize],
      ["second - 1", firstSize, secondSize - 1n],
      ["second + 1", firstSize, secondSize + 1n],
    ] as const) {
      const mutant = { name: `${name}, ${mutation}`, shape: shapeOf(m, n), verify: verify(m, n, [firstRoot, secondRoot], proof) };
      checkParameterMutant(failures, original, mutant);
    }
  }
}

/** Every valid subtree [start, end) with end <= limit. */
function validSubtrees(limit: number): Array<[number, number]> {
  const subtrees: Array<[number, number]> = [];
  for (let end = 1; end <= limit; end++) {
    for (let start = 0; start < end; start++) {
      if (isValidSubtree(BigInt(start), BigInt(end))) subtrees.push([start, end]);
    }
  }
  return subtrees;
}

function checkSubtreeConsistencyProofs(size: number, failures: string[]): void {
  const root = reference.hash(0, size);
  for (const [start, end] of validSubtrees(size)) {
    const name = `[${start}, ${end}) in ${size}`;
    const [s, e, n] = [BigInt(start), BigInt(end), BigInt(size)];
    const shapeOf = (a: bigint, b: bigint, c: bigint) => hashingShape({ start: a, end: b }, () => subtreeConsistencyProofRanges(a, b, c));
    const subtreeHash = reference.hash(start, end);
    const proof = readProof(subtreeConsistencyProofRanges(s, e, n));
    if (!sameHashes(proof, reference.subtreeConsistency(start, end, size))) failures.push(`${name}: proof differs from SUBTREE_PROOF`);
    const verify = (a: bigint, b: bigint, c: bigint, hashes: [Buffer, Buffer], elements: Buffer[]) => () =>
      verifySubtreeConsistency(a, b, c, hashes[0], hashes[1], elements);
    if (outcome(verify(s, e, n, [subtreeHash, root], proof)) !== "ok") failures.push(`${name}: refused`);
    if (outcome(verify(s, e, n, [flipBit(subtreeHash), root], proof)) === "ok") failures.push(`${name}: wrong subtree hash verified`);
    if (outcome(verify(s, e, n, [subtreeHash, flipBit(root)], proof)) === "ok") failures.push(`${name}: wrong root verified`);
    checkCorruptions(failures, name, proof, root, (mutant) => verify(s, e, n, [subtreeHash, root], mutant)());
    const original = shapeOf(s, e, n);
    for (const [mutation, a, b, c] of [
      ["start - 1", s - 1n, e, n],
      ["start + 1", s + 1n, e, n],
      ["end - 1", s, e - 1n, n],
      ["end + 1", s, e + 1n, n],
      ["size - 1", s, e, n - 1n],
      ["size + 1", s, e, n + 1n],
    ] as const) {
      // An empty subtree is a different statement (verifySubtreeConsistency's special case), not a mutant.
      if (a === b) continue;
      const mutant = { name: `${name}, ${mutation}`, shape: shapeOf(a, b, c), verify: verify(a, b, c, [subtreeHash, root], proof) };
      checkParameterMutant(failures, original, mutant);
    }
  }
}

test.each(sizes)("every inclusion proof in a tree of %i leaves", (size) => {
  const failures: string[] = [];
  checkInclusionProofs(size, failures);
  expect(failures).toEqual([]);
});

test.each(sizes)("every consistency proof to a tree of %i leaves", (size) => {
  const failures: string[] = [];
  checkConsistencyProofs(size, failures);
  expect(failures).toEqual([]);
});

test.each(subtreeSizes)("every subtree consistency proof in a tree of %i leaves", (size) => {
  const failures: string[] = [];
  checkSubtreeConsistencyProofs(size, failures);
  expect(failures).toEqual([]);
});

test(`every subtree inclusion proof in the valid subtrees up to ${SUBTREE_LEAF_COUNT_MAX} leaves`, () => {
  const failures: string[] = [];
  for (const [start, end] of validSubtrees(SUBTREE_LEAF_COUNT_MAX)) {
    const subtreeHash = reference.hash(start, end);
    for (let leaf = start; leaf < end; leaf++) {
      const name = `leaf ${leaf} of [${start}, ${end})`;
      // A valid subtree is laid out as a tree of its own; shifted by its start, its ranges stay valid subtrees.
      const ranges = inclusionProofRanges(BigInt(leaf - start), BigInt(end - start));
      const proof = readProof(ranges.map((range) => ({ start: range.start + BigInt(start), end: range.end + BigInt(start) })));
      if (!sameHashes(proof, reference.path(leaf, start, end))) failures.push(`${name}: proof differs from PATH`);
      const verify = (elements: Buffer[]) =>
        verifySubtreeInclusion(BigInt(leaf), BigInt(start), BigInt(end), leafHashes[leaf], elements, subtreeHash);
      if (outcome(() => verify(proof)) !== "ok") failures.push(`${name}: refused`);
      checkCorruptions(failures, name, proof, subtreeHash, verify);
    }
  }
  expect(failures).toEqual([]);
});

test("the same hashing shape really is indistinguishable: leaf 0 of 3 verifies as leaf 0 of 4 against the size-3 root", () => {
  const proof = readProof(inclusionProofRanges(0n, 3n));
  expect(() => verifyInclusion(0n, 4n, leafHashes[0], proof, reference.hash(0, 3))).not.toThrow();
  expect(() => verifyInclusion(0n, 4n, leafHashes[0], proof, reference.hash(0, 4))).toThrow(ProofError);
});
