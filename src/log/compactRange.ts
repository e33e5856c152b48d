import { assert } from "../assert";
import { invalid } from "../errors";
import { EMPTY_ROOT, HASH_BYTES, hashChildren } from "./hasher";
import { UINT64_MAX } from "./preconditions";
import { foldRangeHashes, rangeNodes } from "./subtree";

/** A perfect node completed by an append, for the shell to store: its hash never changes again. */
export interface NodeWrite {
  readonly level: number;
  readonly index: bigint;
  readonly hash: Buffer;
}

/**
 * The right edge of the tree: the hashes of rangeNodes(0, size), one perfect node per set bit of size,
 * largest (leftmost) first. That is all it takes to append a leaf and to compute the root without reading
 * storage. Pure: append returns the nodes to persist instead of writing them. The Buffers it hands out
 * are shared with its state; like every hash in src/log, they are never written into.
 */
export class CompactRange {
  private constructor(
    private leafCount: bigint,
    private readonly edge: Buffer[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0n, []);
  }

  /** Rebuilds the range of a tree of `size` leaves from the hashes of rangeNodes(0, size), in that order. */
  static fromHashes(size: bigint, hashes: Uint8Array[]): CompactRange {
    if (size < 0n || size > UINT64_MAX) {
      throw invalid("COMPACT_RANGE_MALFORMED", `compact range size ${size} is not between 0 and 2^64 - 1`);
    }
    const expected = size === 0n ? 0 : rangeNodes(0n, size).length;
    if (hashes.length !== expected) {
      throw invalid("COMPACT_RANGE_MALFORMED", `a compact range of size ${size} has ${expected} hashes, not ${hashes.length}`);
    }
    hashes.forEach((hash, position) => {
      if (hash.length !== HASH_BYTES) {
        throw invalid("COMPACT_RANGE_MALFORMED", `compact range hash ${position} is ${hash.length} bytes, not ${HASH_BYTES}`);
      }
    });
    return new CompactRange(size, hashes.map((hash) => Buffer.from(hash)));
  }

  get size(): bigint {
    return this.leafCount;
  }

  /**
   * Appends a leaf and returns every perfect node this completes, bottom up: the leaf itself at level 0,
   * then one parent per level for as long as the new node is a right child, since its left sibling is
   * then complete and is the last node on the edge.
   */
  append(leafHash: Uint8Array): NodeWrite[] {
    const writes: NodeWrite[] = [];
    this.extend(leafHash, writes);
    return writes;
  }

  /** Appends a leaf where nothing stores the nodes it completes (an auditor's replay): no list is built. */
  appendLeaf(leafHash: Uint8Array): void {
    this.extend(leafHash, undefined);
  }

  private extend(leafHash: Uint8Array, writes: NodeWrite[] | undefined): void {
    assert(leafHash.length === HASH_BYTES, `a leaf hash is ${HASH_BYTES} bytes, got ${leafHash.length}`);
    assert(this.leafCount < UINT64_MAX, "the tree is full at 2^64 - 1 leaves");
    let level = 0;
    let index = this.leafCount;
    let hash: Buffer = Buffer.from(leafHash);
    writes?.push({ level, index, hash });
    while ((index & 1n) === 1n) {
      const leftSibling = this.edge.pop();
      assert(leftSibling !== undefined, `compact range of size ${this.leafCount} is missing a node at level ${level}`);
      hash = hashChildren(leftSibling, hash);
      level += 1;
      index >>= 1n;
      writes?.push({ level, index, hash });
    }
    this.edge.push(hash);
    this.leafCount += 1n;
  }

  /** The RFC 6962 root of the tree; EMPTY_ROOT for size 0. */
  root(): Buffer {
    return this.edge.length === 0 ? EMPTY_ROOT : foldRangeHashes(this.edge);
  }

  /** The edge, left to right: the nodes of rangeNodes(0, size) with their hashes. */
  nodes(): NodeWrite[] {
    if (this.leafCount === 0n) return [];
    return rangeNodes(0n, this.leafCount).map((node, position) => ({ ...node, hash: this.edge[position] }));
  }

  clone(): CompactRange {
    return new CompactRange(this.leafCount, this.edge.slice());
  }
}
