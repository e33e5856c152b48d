import fc from "fast-check";
import { hashChildren, hashLeaf } from "../../src/log/hasher";
import { consistencyProofRanges, inclusionProofRanges, subtreeConsistencyProofRanges } from "../../src/log/proof";
import { foldRangeHashes, isValidSubtree, rangeNodes, type LeafRange } from "../../src/log/subtree";
import { ProofError, verifyConsistency, verifyInclusion, verifySubtreeConsistency } from "../../src/log/verify";
import { thrown } from "./thrown";

/**
 * Goal: proof layouts are right for every 64-bit size, and bad requests are refused with errors a person
 * can act on. Method: properties over random sizes up to 2^64 - 1 (fast-check) plus fixed cases near 2^62
 * and 2^64 - 1: each layout climbs from the subtree to the root one adjacent valid subtree at a time, and
 * verifies end to end in a tree whose leaves are all equal. In such a tree any range's hash depends only
 * on its length, so the root of a 2^64 - 1 leaf tree costs about a hundred hashes; since a hash also
 * depends on the shape of the tree above the leaves, a layout with the wrong shape still fails.
 */

const UINT64_MAX = 2n ** 64n - 1n;
const UNIFORM_LEAF = hashLeaf(Buffer.from("the same entry everywhere"));
const perfectHashes: Buffer[] = [UNIFORM_LEAF];
for (let level = 1; level <= 64; level++) perfectHashes.push(hashChildren(perfectHashes[level - 1], perfectHashes[level - 1]));
const uniformHashes = new Map<bigint, Buffer>();

/** MTH of `length` equal leaves, straight from the definition, with its own split computation. */
function uniformHash(length: bigint): Buffer {
  const known = uniformHashes.get(length);
  if (known !== undefined) return known;
  let [split, level] = [1n, 0];
  while (split * 2n < length) [split, level] = [split * 2n, level + 1];
  let hash: Buffer;
  if (length === 1n) hash = UNIFORM_LEAF;
  else if (length === split * 2n) hash = perfectHashes[level + 1];
  else hash = hashChildren(perfectHashes[level], uniformHash(length - split));
  uniformHashes.set(length, hash);
  return hash;
}

/** Problems with a layout: each range must be a valid subtree beside the node climbed so far, ending at [0, size). */
function layoutProblems(subtree: LeafRange, size: bigint, ranges: LeafRange[]): string[] {
  const problems = ranges
    .filter((range) => !isValidSubtree(range.start, range.end))
    .map((range) => `[${range.start}, ${range.end}) is not valid`);
  const opensInside = ranges.length > 0 && ranges[0].start >= subtree.start && ranges[0].end <= subtree.end;
  let node = opensInside ? ranges[0] : subtree;
  for (const range of ranges.slice(opensInside ? 1 : 0)) {
    if (range.end === node.start) node = { start: range.start, end: node.end };
    else if (range.start === node.end) node = { start: node.start, end: range.end };
    else problems.push(`[${range.start}, ${range.end}) is not beside [${node.start}, ${node.end})`);
  }
  if (node.start !== 0n || node.end !== size) problems.push(`the climb ends at [${node.start}, ${node.end}), not [0, ${size})`);
  return problems;
}

const elementsOf = (ranges: LeafRange[]) => ranges.map((range) => uniformHash(range.end - range.start));
function flipFirstBit(proof: Buffer[]): Buffer[] {
  const flipped = Buffer.from(proof[0]);
  flipped[0] ^= 0x01;
  return [flipped, ...proof.slice(1)];
}
const treeSize = fc.bigInt({ min: 1n, max: UINT64_MAX });
const ceilLog2 = (n: bigint) => (n === 1n ? 0 : (n - 1n).toString(2).length);

describe("64-bit proof layouts", () => {
  test("inclusion: the layout climbs to the root, has at most ceil(log2 size) elements, and verifies", () => {
    const inclusion = treeSize.chain((size) => fc.tuple(fc.bigInt({ min: 0n, max: size - 1n }), fc.constant(size)));
    const fixed: Array<[bigint, bigint]> = [
      [UINT64_MAX - 1n, UINT64_MAX],
      [0n, UINT64_MAX],
      [2n ** 62n, 2n ** 62n + 1n],
      [2n ** 62n - 1n, 2n ** 62n],
    ];
    fc.assert(
      fc.property(inclusion, ([index, size]) => {
        const ranges = inclusionProofRanges(index, size);
        expect(layoutProblems({ start: index, end: index + 1n }, size, ranges)).toEqual([]);
        expect(ranges.length).toBeLessThanOrEqual(ceilLog2(size));
        const proof = elementsOf(ranges);
        verifyInclusion(index, size, UNIFORM_LEAF, proof, uniformHash(size));
        if (proof.length === 0) return;
        expect(() => verifyInclusion(index, size, UNIFORM_LEAF, flipFirstBit(proof), uniformHash(size))).toThrow(ProofError);
      }),
      { examples: fixed.map((example) => [example]) },
    );
  });

  test("consistency: the layout climbs to the root, has at most ceil(log2 second) + 1 elements, and verifies", () => {
    const sizes = treeSize.chain((second) => fc.tuple(fc.bigInt({ min: 1n, max: second }), fc.constant(second)));
    const fixed: Array<[bigint, bigint]> = [
      [UINT64_MAX - 1n, UINT64_MAX],
      [1n, UINT64_MAX],
      [2n ** 62n, UINT64_MAX],
      [2n ** 62n - 3n, 2n ** 62n + 5n],
    ];
    fc.assert(
      fc.property(sizes, ([first, second]) => {
        const ranges = consistencyProofRanges(first, second);
        expect(layoutProblems({ start: 0n, end: first }, second, ranges)).toEqual([]);
        expect(ranges.length).toBeLessThanOrEqual(ceilLog2(second) + 1);
        const proof = elementsOf(ranges);
        verifyConsistency(first, second, uniformHash(first), uniformHash(second), proof);
        if (proof.length === 0) return;
        const corrupted = flipFirstBit(proof);
        expect(() => verifyConsistency(first, second, uniformHash(first), uniformHash(second), corrupted)).toThrow(ProofError);
      }),
      { examples: fixed.map((example) => [example]) },
    );
  });
});

describe("64-bit subtree layouts", () => {
  test("subtree consistency: the layout climbs to the root and verifies", () => {
    // A start aligned to 2^level and a length of at most 2^level always make a valid subtree.
    const subtrees = fc
      .integer({ min: 0, max: 63 })
      .chain((level) =>
        fc.tuple(
          fc.constant(level),
          fc.bigInt({ min: 0n, max: (UINT64_MAX >> BigInt(level)) - 1n }),
          fc.bigInt({ min: 1n, max: 2n ** BigInt(level) }),
        ),
      )
      .map(([level, index, length]) => ({ start: index << BigInt(level), end: (index << BigInt(level)) + length }))
      .chain((subtree) => fc.tuple(fc.constant(subtree), fc.bigInt({ min: subtree.end, max: UINT64_MAX })));
    fc.assert(
      fc.property(subtrees, ([subtree, size]) => {
        expect(isValidSubtree(subtree.start, subtree.end)).toBe(true);
        const ranges = subtreeConsistencyProofRanges(subtree.start, subtree.end, size);
        expect(layoutProblems(subtree, size, ranges)).toEqual([]);
        const proof = elementsOf(ranges);
        verifySubtreeConsistency(subtree.start, subtree.end, size, uniformHash(subtree.end - subtree.start), uniformHash(size), proof);
      }),
    );
  });

  test("folding the stored nodes of a 64-bit range gives the range's hash", () => {
    for (const [start, end] of [[0n, UINT64_MAX], [2n ** 63n, UINT64_MAX], [2n ** 62n, 2n ** 62n + 12345n]]) {
      const folded = foldRangeHashes(rangeNodes(start, end).map((node) => perfectHashes[node.level]));
      expect(folded.equals(uniformHash(end - start))).toBe(true);
    }
  });
});

describe("bad requests are refused with a code and a sentence", () => {
  test.each([
    ["leaf beyond the tree", () => inclusionProofRanges(9n, 8n), "INDEX_OUT_OF_RANGE", "index 9 is beyond tree size 8"],
    ["leaf of the empty tree", () => inclusionProofRanges(0n, 0n), "INDEX_OUT_OF_RANGE", "index 0 is beyond tree size 0"],
    ["negative index", () => inclusionProofRanges(-1n, 8n), "NOT_UINT64", "leaf index -1 is not between 0 and 2^64 - 1"],
    [
      "size past 64 bits",
      () => inclusionProofRanges(0n, 2n ** 64n),
      "NOT_UINT64",
      "tree size 18446744073709551616 is not between 0 and 2^64 - 1",
    ],
    ["sizes out of order", () => consistencyProofRanges(6n, 5n), "SIZE_ORDER", "first tree size 6 is larger than second tree size 5"],
    [
      "from the empty tree",
      () => consistencyProofRanges(0n, 5n),
      "EMPTY_TREE",
      "there is no consistency proof from the empty tree to tree size 5",
    ],
    [
      "misaligned subtree",
      () => subtreeConsistencyProofRanges(2n, 5n, 8n),
      "INVALID_SUBTREE",
      "subtree [2, 5) is not valid: its start must be a multiple of the smallest power of two >= its length 3",
    ],
    [
      "empty subtree",
      () => subtreeConsistencyProofRanges(3n, 3n, 8n),
      "INVALID_SUBTREE",
      "subtree [3, 3) is empty: it must end after it starts",
    ],
    ["subtree past the tree", () => subtreeConsistencyProofRanges(8n, 16n, 12n), "SIZE_ORDER", "subtree [8, 16) ends beyond tree size 12"],
  ])("%s", (_name, request, code, message) => {
    const error = thrown(request);
    expect(error).toBeInstanceOf(ProofError);
    expect(error).toMatchObject({ kind: "invalid", code, message });
  });

  test("equal sizes need no proof", () => {
    expect(consistencyProofRanges(7n, 7n)).toEqual([]);
    expect(subtreeConsistencyProofRanges(0n, 7n, 7n)).toEqual([]);
    expect(inclusionProofRanges(0n, 1n)).toEqual([]);
  });
});
