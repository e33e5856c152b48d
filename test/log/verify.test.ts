import fc from "fast-check";
import { HashfedError } from "../../src/errors";
import { EMPTY_ROOT, hashLeaf } from "../../src/log/hasher";
import { consistencyProofRanges, inclusionProofRanges } from "../../src/log/proof";
import { foldRangeHashes, rangeNodes, type LeafRange } from "../../src/log/subtree";
import {
  ProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from "../../src/log/verify";
import { ReferenceTree } from "./referenceTree";
import { thrown } from "./thrown";

/**
 * Goal: each way a proof can be wrong gets its own code and a message that says what was expected, and
 * nothing a peer sends can make a verifier fail any other way. Method: named cases over a 16-leaf tree,
 * then random indexes, sizes and proofs of random shapes (fast-check), which must verify or throw a
 * ProofError, never an assertion or a TypeError.
 */

const leafHashes = Array.from({ length: 16 }, (_, index) => hashLeaf(Buffer.from(`entry ${index}`)));
const reference = new ReferenceTree(leafHashes);
const root = (size: number) => reference.hash(0, size);
const hex = (hash: Uint8Array) => Buffer.from(hash).toString("hex");

function readProof(ranges: LeafRange[]): Buffer[] {
  return ranges.map((range) =>
    foldRangeHashes(rangeNodes(range.start, range.end).map((node) => reference.nodeHash(node.level, Number(node.index)))),
  );
}

function flipped(hash: Uint8Array): Buffer {
  const copy = Buffer.from(hash);
  copy[5] ^= 0x40;
  return copy;
}

const inclusionProof = (index: number, size: number) => readProof(inclusionProofRanges(BigInt(index), BigInt(size)));
const consistencyProof = (first: number, second: number) => readProof(consistencyProofRanges(BigInt(first), BigInt(second)));

test("a ProofError is a HashfedError of kind invalid", () => {
  const error = thrown(() => verifyInclusion(9n, 8n, leafHashes[0], [], root(8)));
  expect(error).toBeInstanceOf(ProofError);
  expect(error).toBeInstanceOf(HashfedError);
  expect(error).toMatchObject({ name: "ProofError", kind: "invalid", code: "INDEX_OUT_OF_RANGE" });
});

describe("inclusion", () => {
  test("rootFromInclusionProof returns the root as a Buffer, from plain Uint8Arrays too", () => {
    const proof = inclusionProof(5, 13).map((element) => new Uint8Array(element));
    const calculated = rootFromInclusionProof(5n, 13n, new Uint8Array(leafHashes[5]), proof);
    expect(Buffer.isBuffer(calculated)).toBe(true);
    expect(calculated.equals(root(13))).toBe(true);
  });

  test("a root mismatch prints the expected and the calculated root in hex", () => {
    const error = thrown(() => verifyInclusion(5n, 13n, leafHashes[5], inclusionProof(5, 13), root(12)));
    expect(error).toMatchObject({
      code: "ROOT_MISMATCH",
      message: `the proof does not match the root of the tree of size 13: expected ${hex(root(12))}, calculated ${hex(root(13))}`,
    });
  });

  test("the proof length is checked before any hashing, and says what it should be", () => {
    const proof = inclusionProof(5, 13);
    expect(thrown(() => verifyInclusion(5n, 13n, leafHashes[5], proof.slice(1), root(13)))).toMatchObject({
      code: "BAD_PROOF_LENGTH",
      message: `an inclusion proof for index 5 in a tree of size 13 has ${proof.length} hashes, but this one has ${proof.length - 1}`,
    });
  });

  test("every element and the leaf hash must be 32 bytes", () => {
    const proof = inclusionProof(5, 13);
    proof[1] = proof[1].subarray(1);
    expect(thrown(() => verifyInclusion(5n, 13n, leafHashes[5], proof, root(13)))).toMatchObject({
      code: "BAD_PROOF_ELEMENT",
      message: "proof element 1 is 31 bytes, not a 32-byte hash",
    });
    expect(thrown(() => verifyInclusion(0n, 1n, Buffer.alloc(0), [], Buffer.alloc(0)))).toMatchObject({
      code: "BAD_LEAF_HASH",
      message: "the leaf hash is 0 bytes, not a 32-byte hash",
    });
  });
});

describe("consistency", () => {
  test("from size 0 is refused, even to size 0 and with the empty root: callers special-case it", () => {
    for (const second of [0n, 1n, 5n]) {
      const error = thrown(() => verifyConsistency(0n, second, EMPTY_ROOT, second === 0n ? EMPTY_ROOT : root(Number(second)), []));
      expect(error).toMatchObject({ code: "EMPTY_TREE" });
    }
  });

  test("equal sizes need an empty proof and equal roots", () => {
    expect(() => verifyConsistency(7n, 7n, root(7), root(7), [])).not.toThrow();
    expect(thrown(() => verifyConsistency(7n, 7n, root(7), root(8), []))).toMatchObject({ code: "ROOT_MISMATCH" });
    expect(thrown(() => verifyConsistency(7n, 7n, root(7), root(7), [root(7)]))).toMatchObject({ code: "BAD_PROOF_LENGTH" });
  });

  test("sizes out of order", () => {
    expect(thrown(() => verifyConsistency(8n, 7n, root(8), root(7), []))).toMatchObject({
      code: "SIZE_ORDER",
      message: "first tree size 8 is larger than second tree size 7",
    });
  });

  test("a wrong first root is a SUBTREE_MISMATCH when the proof rebuilds it, a ROOT_MISMATCH when the climb starts from it", () => {
    // 6 is not a node of the tree of 8, so the proof carries its parts and must rebuild the first root.
    expect(thrown(() => verifyConsistency(6n, 8n, flipped(root(6)), root(8), consistencyProof(6, 8)))).toMatchObject({
      code: "SUBTREE_MISMATCH",
      message: `the proof does not match the root of the tree of size 6: expected ${hex(flipped(root(6)))}, calculated ${hex(root(6))}`,
    });
    // 4 is a node of the tree of 8: its root is where the climb starts (C4 in the reference's vectors).
    expect(thrown(() => verifyConsistency(4n, 8n, flipped(root(4)), root(8), consistencyProof(4, 8)))).toMatchObject({
      code: "ROOT_MISMATCH",
    });
  });
});

describe("subtree inclusion", () => {
  test("a leaf of a subtree verifies against the subtree's hash", () => {
    const subtreeHash = reference.hash(8, 13);
    const proof = readProof(inclusionProofRanges(1n, 5n).map((range) => ({ start: range.start + 8n, end: range.end + 8n })));
    expect(() => verifySubtreeInclusion(9n, 8n, 13n, leafHashes[9], proof, subtreeHash)).not.toThrow();
    expect(thrown(() => verifySubtreeInclusion(9n, 8n, 13n, leafHashes[9], proof.slice(1), subtreeHash))).toMatchObject({
      code: "BAD_PROOF_LENGTH",
      message: `an inclusion proof for index 9 in subtree [8, 13) has ${proof.length} hashes, but this one has ${proof.length - 1}`,
    });
    expect(thrown(() => verifySubtreeInclusion(9n, 8n, 13n, leafHashes[9], proof, root(13)))).toMatchObject({
      code: "ROOT_MISMATCH",
      message: expect.stringContaining("the hash of subtree [8, 13)"),
    });
  });

  test("the leaf must be inside a valid subtree", () => {
    expect(thrown(() => verifySubtreeInclusion(0n, 1n, 2n, leafHashes[0], [], leafHashes[0]))).toMatchObject({
      code: "INDEX_OUT_OF_RANGE",
      message: "index 0 is outside subtree [1, 2)",
    });
    expect(thrown(() => verifySubtreeInclusion(3n, 3n, 5n, leafHashes[3], [], leafHashes[3]))).toMatchObject({ code: "INVALID_SUBTREE" });
  });
});

describe("subtree consistency", () => {
  test("a subtree that is not a node of the tree is rebuilt from the proof and checked", () => {
    const subtreeHash = reference.hash(0, 6);
    const proof = consistencyProof(6, 16);
    expect(() => verifySubtreeConsistency(0n, 6n, 16n, subtreeHash, root(16), proof)).not.toThrow();
    expect(thrown(() => verifySubtreeConsistency(0n, 6n, 16n, flipped(subtreeHash), root(16), proof))).toMatchObject({
      code: "SUBTREE_MISMATCH",
      message: expect.stringContaining("the hash of subtree [0, 6)"),
    });
  });

  test("an empty subtree within the tree verifies with the empty-tree hash and no proof, whatever the root", () => {
    expect(() => verifySubtreeConsistency(3n, 3n, 8n, EMPTY_ROOT, flipped(root(8)), [])).not.toThrow();
    expect(() => verifySubtreeConsistency(0n, 0n, 0n, EMPTY_ROOT, EMPTY_ROOT, [])).not.toThrow();
    expect(thrown(() => verifySubtreeConsistency(3n, 3n, 8n, root(3), root(8), []))).toMatchObject({
      code: "SUBTREE_MISMATCH",
      message: `empty subtree [3, 3) must have the empty-tree hash ${hex(EMPTY_ROOT)}, not ${hex(root(3))}`,
    });
    const withProof = () => verifySubtreeConsistency(3n, 3n, 8n, EMPTY_ROOT, root(8), [EMPTY_ROOT]);
    expect(thrown(withProof)).toMatchObject({ code: "BAD_PROOF_LENGTH" });
    expect(thrown(() => verifySubtreeConsistency(9n, 9n, 8n, EMPTY_ROOT, root(8), []))).toMatchObject({
      code: "SIZE_ORDER",
      message: "empty subtree [9, 9) lies beyond tree size 8",
    });
  });
});

describe("nothing a peer sends makes a verifier fail other than with a ProofError", () => {
  const anyIndex = fc.bigInt({ min: -2n, max: 20n });
  const anyHash = fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => Buffer.from(bytes));
  const anyProof = fc.array(fc.oneof(anyHash, fc.constant(leafHashes[1]), fc.constant(root(2))), { maxLength: 7 });
  const refusedOnlyWithProofErrors = (verify: () => void) => {
    try {
      verify();
    } catch (error) {
      expect(error).toBeInstanceOf(ProofError);
    }
  };

  test("inclusion and subtree inclusion", () => {
    fc.assert(
      fc.property(anyIndex, anyIndex, anyIndex, anyHash, anyProof, (index, start, end, hash, proof) => {
        refusedOnlyWithProofErrors(() => verifyInclusion(index, end, hash, proof, root(4)));
        refusedOnlyWithProofErrors(() => verifySubtreeInclusion(index, start, end, hash, proof, root(4)));
      }),
    );
  });

  test("consistency and subtree consistency", () => {
    fc.assert(
      fc.property(anyIndex, anyIndex, anyIndex, anyHash, anyProof, (start, end, size, hash, proof) => {
        refusedOnlyWithProofErrors(() => verifyConsistency(end, size, hash, root(4), proof));
        refusedOnlyWithProofErrors(() => verifySubtreeConsistency(start, end, size, hash, root(4), proof));
      }),
    );
  });
});
