import { AssertionError } from "../../src/assert";
import { hashLeaf } from "../../src/log/hasher";
import { foldRangeHashes, isValidSubtree, largestPowerOfTwoBelow, rangeNodes } from "../../src/log/subtree";
import { ReferenceTree, treeNodes } from "./referenceTree";

/**
 * Goal: the addressing that proofs and storage share is right, in 64-bit arithmetic. Method: compare the
 * valid subtrees with the nodes the RFC 6962 recursion actually visits, fold stored node hashes into
 * range hashes against the reference tree, and check bigint values well past 2^32 and 2^53.
 */

const LEAF_COUNT_MAX = 64;
const leafHashes = Array.from({ length: LEAF_COUNT_MAX }, (_, index) => hashLeaf(Buffer.from(`entry ${index}`)));
const reference = new ReferenceTree(leafHashes);

describe("isValidSubtree", () => {
  test("the valid subtrees are exactly the nodes of some tree (every size up to 64)", () => {
    const nodes = new Set<string>();
    for (let size = 1; size <= LEAF_COUNT_MAX; size++) {
      for (const [start, end] of treeNodes(size)) nodes.add(`${start},${end}`);
    }
    const valid = new Set<string>();
    for (let end = 1; end <= LEAF_COUNT_MAX; end++) {
      for (let start = 0; start < end; start++) {
        if (isValidSubtree(BigInt(start), BigInt(end))) valid.add(`${start},${end}`);
      }
    }
    expect([...valid].sort()).toEqual([...nodes].sort());
  });

  test.each([
    [0n, 1n, true],
    [4n, 7n, true],
    [8n, 13n, true],
    [1n, 3n, false],
    [2n, 5n, false],
    [3n, 5n, false],
    [1n, 15n, false],
    [0n, 0n, false],
    [2n, 1n, false],
    [-4n, 0n, false],
    [2n ** 63n, 2n ** 64n - 1n, true],
    [0n, 2n ** 64n - 1n, true],
    [1n, 2n ** 63n + 2n, false],
    [2n ** 32n, 2n ** 33n, true],
    [2n ** 32n, 2n ** 33n + 1n, false],
  ])("[%s, %s) is valid: %s", (start, end, expected) => {
    expect(isValidSubtree(start, end)).toBe(expected);
  });
});

describe("rangeNodes and foldRangeHashes", () => {
  test("the nodes of a range, largest first", () => {
    const nodes = (start: bigint, end: bigint) => rangeNodes(start, end).map((node) => [node.level, node.index]);
    expect(nodes(0n, 13n)).toEqual([[3, 0n], [2, 2n], [0, 12n]]);
    expect(nodes(8n, 13n)).toEqual([[2, 2n], [0, 12n]]);
    expect(nodes(6n, 7n)).toEqual([[0, 6n]]);
    expect(nodes(16n, 32n)).toEqual([[4, 1n]]);
  });

  test("folding the stored node hashes gives the MTH of every valid subtree up to 64 leaves", () => {
    const failures: string[] = [];
    for (let end = 1; end <= LEAF_COUNT_MAX; end++) {
      for (let start = 0; start < end; start++) {
        if (!isValidSubtree(BigInt(start), BigInt(end))) continue;
        const hashes = rangeNodes(BigInt(start), BigInt(end)).map((node) => reference.nodeHash(node.level, Number(node.index)));
        if (!foldRangeHashes(hashes).equals(reference.hash(start, end))) failures.push(`[${start}, ${end})`);
      }
    }
    expect(failures).toEqual([]);
  });

  test("a single node folds to itself, returned as a Buffer", () => {
    const folded = foldRangeHashes([new Uint8Array(leafHashes[3])]);
    expect(Buffer.isBuffer(folded)).toBe(true);
    expect(folded.equals(leafHashes[3])).toBe(true);
  });

  test("64-bit ranges keep every bit: [0, 2^64 - 1) is 64 nodes, one per level", () => {
    const nodes = rangeNodes(0n, 2n ** 64n - 1n);
    expect(nodes.map((node) => node.level)).toEqual(Array.from({ length: 64 }, (_, position) => 63 - position));
    expect(nodes.map((node) => node.index << BigInt(node.level))).toEqual(
      Array.from({ length: 64 }, (_, position) => 2n ** 64n - 2n ** BigInt(64 - position)),
    );
    expect(rangeNodes(2n ** 63n, 2n ** 64n - 1n)[0]).toEqual({ level: 62, index: 2n });
    expect(rangeNodes(2n ** 62n + 2n ** 40n, 2n ** 62n + 2n ** 41n)).toEqual([{ level: 40, index: 2n ** 22n + 1n }]);
  });

  test("programmer errors are assertions: an invalid range, an empty fold", () => {
    expect(() => rangeNodes(2n, 5n)).toThrow(AssertionError);
    expect(() => foldRangeHashes([])).toThrow(AssertionError);
  });
});

describe("largestPowerOfTwoBelow", () => {
  test.each([
    [2n, 1n],
    [3n, 2n],
    [4n, 2n],
    [5n, 4n],
    [2n ** 31n + 1n, 2n ** 31n],
    [2n ** 32n, 2n ** 31n],
    [2n ** 32n + 1n, 2n ** 32n],
    [2n ** 53n + 1n, 2n ** 53n],
    [2n ** 62n, 2n ** 61n],
    [2n ** 63n + 1n, 2n ** 63n],
    [2n ** 64n - 1n, 2n ** 63n],
  ])("below %s is %s", (n, expected) => {
    expect(largestPowerOfTwoBelow(n)).toBe(expected);
  });

  test("every n up to 2^12 against counting up", () => {
    for (let n = 2; n <= 4096; n++) {
      let k = 1;
      while (k * 2 < n) k *= 2;
      expect(largestPowerOfTwoBelow(BigInt(n))).toBe(BigInt(k));
    }
  });

  test("a tree of one leaf has no split point", () => {
    expect(() => largestPowerOfTwoBelow(1n)).toThrow(AssertionError);
  });
});
