import { assert } from "../assert";
import { asBuffer } from "./bytes";
import { hashChildren } from "./hasher";

/**
 * Addressing inside the tree. Everything is bigint: tree sizes and indexes are 64-bit, and JavaScript's
 * `>>` truncates to 32 bits.
 *
 * A perfect node (NodeId) covers 2^level leaves starting at a multiple of 2^level; these are the nodes
 * whose hashes never change once written, so they are what storage keeps. A valid subtree (Merkle Tree
 * Certificates draft, §4.1) is a range [start, end) with start a multiple of BIT_CEIL(end - start): a
 * perfect node, or the left part of one, as the right edge of a tree is. Every proof element is the
 * hash of a valid subtree, and a valid subtree is made of a few perfect nodes (rangeNodes).
 */

/**
 * 2^level and level as bigints, for every level a 64-bit tree has: proofs are generated tens of thousands
 * of times a second, and converting and shifting bigints costs more than reading a table.
 */
const POWER_OF_TWO: readonly bigint[] = Array.from({ length: 65 }, (_, level) => 1n << BigInt(level));
const LEVEL: readonly bigint[] = Array.from({ length: 65 }, (_, level) => BigInt(level));
const SAFE_INTEGER_BOUND = 2n ** 53n;
const UINT32_BOUND = 2 ** 32;

/** The perfect subtree over leaves [index << level, (index + 1) << level). */
export interface NodeId {
  readonly level: number;
  readonly index: bigint;
}

/** The leaves [start, end). */
export interface LeafRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** Whether [start, end) is a valid subtree: 0 <= start < end and start is a multiple of BIT_CEIL(end - start). */
export function isValidSubtree(start: bigint, end: bigint): boolean {
  return start >= 0n && start < end && start % bitCeil(end - start) === 0n;
}

/**
 * The perfect nodes that make up the valid subtree [start, end), left to right, so largest first: one
 * per set bit of end - start. Requires isValidSubtree(start, end).
 */
export function rangeNodes(start: bigint, end: bigint): NodeId[] {
  assert(isValidSubtree(start, end), `[${start}, ${end}) is not a valid subtree`);
  const nodes: NodeId[] = [];
  let position = start;
  let remaining = end - start;
  // One iteration per set bit: a proof at a million leaves asks for ~20 ranges, most of them one node.
  while (remaining > 0n) {
    const level = bitLength(remaining) - 1;
    const width = POWER_OF_TWO[level];
    nodes.push({ level, index: position >> LEVEL[level] });
    position += width;
    remaining -= width;
  }
  return nodes;
}

/** The perfect node that is exactly [start, end), or undefined when the range is not one node. */
export function perfectNode(start: bigint, end: bigint): NodeId | undefined {
  const width = end - start;
  if (width <= 0n || (width & (width - 1n)) !== 0n) return undefined;
  const level = bitLength(width) - 1;
  const index = start >> LEVEL[level]!;
  return index << LEVEL[level]! === start ? { level, index } : undefined;
}

/**
 * The RFC 6962 MTH of a valid subtree from the hashes of its rangeNodes(), in that order. Its largest
 * node is exactly the left child the MTH definition splits off (the largest power of two below the
 * length), so the MTH is the right fold H(h0 || H(h1 || ... H(h[n-2] || h[n-1]))).
 */
export function foldRangeHashes(hashes: Uint8Array[]): Buffer {
  assert(hashes.length > 0, "a range has at least one node");
  let folded = hashes[hashes.length - 1];
  for (let position = hashes.length - 2; position >= 0; position--) {
    folded = hashChildren(hashes[position], folded);
  }
  return asBuffer(folded);
}

/** The k with k < n <= 2k that splits a tree of n leaves (RFC 6962 §2.1). Requires n > 1. */
export function largestPowerOfTwoBelow(n: bigint): bigint {
  assert(n > 1n, `a tree of ${n} leaves has no split point`);
  return POWER_OF_TWO[bitLength(n - 1n) - 1];
}

/** The smallest power of two >= n, for n >= 1. */
function bitCeil(n: bigint): bigint {
  return n <= 1n ? 1n : POWER_OF_TWO[bitLength(n - 1n)];
}

/** The number of bits needed to write value >= 0 in binary (0 for 0), without a 32-bit truncation. */
function bitLength(value: bigint): number {
  if (value < SAFE_INTEGER_BOUND) {
    // Exact as a double; Math.clz32 counts within 32 bits, so the high half is counted separately.
    const number = Number(value);
    return number < UINT32_BOUND ? 32 - Math.clz32(number) : 64 - Math.clz32(Math.floor(number / UINT32_BOUND));
  }
  let bits = 0;
  let rest = value;
  while (rest > 0xffffffffn) {
    rest >>= 32n;
    bits += 32;
  }
  return bits + (32 - Math.clz32(Number(rest)));
}
