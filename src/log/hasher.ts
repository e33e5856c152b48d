import { createHash } from "node:crypto";
import { sha256 } from "../crypto/sha256";

/**
 * The RFC 6962 / RFC 9162 tree hash over SHA-256. Leaves and interior nodes are hashed under different
 * one-byte prefixes (0x00 and 0x01), which is what keeps a leaf from passing for an interior node.
 */
export const HASH_BYTES = 32;

/**
 * One reusable buffer for interior nodes: a one-shot hash of 65 bytes costs about 60% of a
 * createHash with three updates, and every append and proof hashes interior nodes.
 */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_BYTES);
NODE_INPUT[0] = 0x01;

/** MTH({}) = SHA-256(""), the root of the empty tree. Shared: never write into it. */
export const EMPTY_ROOT: Buffer = createHash("sha256").digest();

/**
 * One reusable buffer for leaves up to a few kibibytes (a log entry is about 200 bytes): allocating
 * the prefixed copy cost as much as the hash itself in a full audit's replay.
 */
const LEAF_INPUT = Buffer.alloc(4096);
LEAF_INPUT[0] = 0x00;

/** MTH({d}) = SHA-256(0x00 || d). */
export function hashLeaf(data: Uint8Array): Buffer {
  const input = data.length < LEAF_INPUT.length ? LEAF_INPUT.subarray(0, 1 + data.length) : Buffer.allocUnsafe(1 + data.length);
  input[0] = 0x00;
  input.set(data, 1);
  return sha256(input);
}

/** SHA-256(0x01 || left || right): the hash of an interior node from the hashes of its two children. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) {
    return createHash("sha256").update(NODE_INPUT.subarray(0, 1)).update(left).update(right).digest();
  }
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_BYTES);
  return sha256(NODE_INPUT);
}
