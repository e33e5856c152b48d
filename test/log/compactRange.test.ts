import { AssertionError } from "../../src/assert";
import { HashfedError } from "../../src/errors";
import { CompactRange, type NodeWrite } from "../../src/log/compactRange";
import { EMPTY_ROOT, hashChildren, hashLeaf } from "../../src/log/hasher";
import { ReferenceTree } from "./referenceTree";
import { thrown } from "./thrown";

/**
 * Goal: the compact range keeps the right edge of the tree exactly, reports every node an append
 * completes, and survives a round trip through its stored hashes, up to 64-bit sizes. Method: compare
 * with the naive reference tree after each of 300 appends, then probe the bounds with synthetic edges.
 */

const LEAF_COUNT = 300;
const leafHashes = Array.from({ length: LEAF_COUNT }, (_, index) => hashLeaf(Buffer.from(`leaf ${index}`)));
const reference = new ReferenceTree(leafHashes);

const describeWrite = (write: NodeWrite) => `${write.level}/${write.index}=${write.hash.toString("hex").slice(0, 8)}`;

/** The perfect nodes that become complete when leaf `size - 1` arrives: those that end at `size`. */
function expectedWrites(size: number): string[] {
  const writes: string[] = [];
  for (let level = 0; size % 2 ** level === 0; level++) {
    const index = size / 2 ** level - 1;
    writes.push(describeWrite({ level, index: BigInt(index), hash: reference.nodeHash(level, index) }));
  }
  return writes;
}

/** The edge of a tree of `size` leaves: one perfect node per set bit of size, largest first. */
function expectedEdge(size: number): string[] {
  const edge: string[] = [];
  let start = 0;
  for (let level = 31; level >= 0; level--) {
    const width = 2 ** level;
    if ((size & width) === 0) continue;
    edge.push(describeWrite({ level, index: BigInt(start / width), hash: reference.hash(start, start + width) }));
    start += width;
  }
  return edge;
}

test(`${LEAF_COUNT} appends: every root, node write and edge agrees with the reference tree`, () => {
  const range = CompactRange.empty();
  const failures: string[] = [];
  expect(range.root().equals(EMPTY_ROOT)).toBe(true);
  expect(range.nodes()).toEqual([]);
  for (let size = 1; size <= LEAF_COUNT; size++) {
    const writes = range.append(leafHashes[size - 1]).map(describeWrite);
    if (range.size !== BigInt(size)) failures.push(`size ${range.size} after ${size} appends`);
    if (!range.root().equals(reference.hash(0, size))) failures.push(`root at size ${size}`);
    if (writes.join() !== expectedWrites(size).join()) failures.push(`writes at size ${size}: ${writes.join()}`);
    if (range.nodes().map(describeWrite).join() !== expectedEdge(size).join()) failures.push(`edge at size ${size}`);
  }
  expect(failures).toEqual([]);
});

test("fromHashes(size, nodes()) rebuilds a range that goes on exactly like the original", () => {
  const original = CompactRange.empty();
  for (let size = 0; size < LEAF_COUNT; size++) {
    const copy = CompactRange.fromHashes(original.size, original.nodes().map((node) => node.hash));
    expect(copy.root().equals(original.root())).toBe(true);
    const [copyWrites, originalWrites] = [copy.append(leafHashes[size]), original.append(leafHashes[size])];
    expect(copyWrites.map(describeWrite)).toEqual(originalWrites.map(describeWrite));
    expect(copy.root().equals(original.root())).toBe(true);
  }
});

test("a clone is independent of the range it was cloned from", () => {
  const range = CompactRange.empty();
  range.append(leafHashes[0]);
  const clone = range.clone();
  clone.append(leafHashes[1]);
  expect(range.size).toBe(1n);
  expect(range.root().equals(leafHashes[0])).toBe(true);
  expect(clone.root().equals(reference.hash(0, 2))).toBe(true);
});

test("the range copies the leaf hash it is given, so the caller may reuse its buffer", () => {
  const range = CompactRange.empty();
  const scratch = Buffer.from(leafHashes[0]);
  range.append(scratch);
  scratch.fill(0);
  expect(range.root().equals(leafHashes[0])).toBe(true);
});

test("fromHashes refuses stored hashes that cannot be a compact range, saying why", () => {
  const hash = leafHashes[0];
  const refusal = (size: bigint, hashes: Uint8Array[]) => () => CompactRange.fromHashes(size, hashes);
  expect(refusal(3n, [hash])).toThrow("a compact range of size 3 has 2 hashes, not 1");
  expect(refusal(0n, [hash])).toThrow("a compact range of size 0 has 0 hashes, not 1");
  expect(refusal(1n, [hash.subarray(1)])).toThrow("compact range hash 0 is 31 bytes, not 32");
  expect(refusal(-1n, [])).toThrow("compact range size -1 is not between 0 and 2^64 - 1");
  expect(refusal(2n ** 64n, [])).toThrow(HashfedError);
  expect(thrown(refusal(2n, []))).toMatchObject({ kind: "invalid", code: "COMPACT_RANGE_MALFORMED" });
});

test("append asserts a 32-byte leaf hash: leaf hashes come from hashLeaf, not from peers", () => {
  expect(() => CompactRange.empty().append(Buffer.alloc(31))).toThrow(AssertionError);
});

describe("64-bit sizes", () => {
  // Distinct stand-in hashes for the levels of a synthetic edge: the arithmetic, not the content, is under test.
  const standIn = (level: number) => hashLeaf(Buffer.from(`level ${level}`));

  test("an append at 2^63 - 1 leaves merges all the way up to one node of level 63", () => {
    const levels = Array.from({ length: 63 }, (_, position) => 62 - position);
    const range = CompactRange.fromHashes(2n ** 63n - 1n, levels.map(standIn));
    const writes = range.append(leafHashes[0]);
    expect(writes.map((write) => [write.level, write.index])).toEqual(
      Array.from({ length: 64 }, (_, level) => [level, (2n ** 63n - 1n) >> BigInt(level)]),
    );
    const expectedRoot = levels.reduceRight((right, level) => hashChildren(standIn(level), right), leafHashes[0]);
    expect(range.root().equals(expectedRoot)).toBe(true);
    expect(range.nodes().map((node) => [node.level, node.index])).toEqual([[63, 0n]]);
  });

  test("the last leaf a 64-bit tree can hold is appended at 2^64 - 2, and then the tree is full", () => {
    const levels = Array.from({ length: 63 }, (_, position) => 63 - position);
    const range = CompactRange.fromHashes(2n ** 64n - 2n, levels.map(standIn));
    expect(range.append(leafHashes[0]).map((write) => [write.level, write.index])).toEqual([[0, 2n ** 64n - 2n]]);
    expect(range.size).toBe(2n ** 64n - 1n);
    const edge = range.nodes();
    expect(edge).toHaveLength(64);
    expect([edge[0].level, edge[0].index]).toEqual([63, 0n]);
    expect([edge[63].level, edge[63].index]).toEqual([0, 2n ** 64n - 2n]);
    expect(() => range.append(leafHashes[1])).toThrow(AssertionError);
  });
});
