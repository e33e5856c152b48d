import { createHash } from "node:crypto";

/**
 * The RFC 6962 / RFC 9162 tree hash over SHA-256. Leaves and interior nodes are hashed under different
 * one-byte prefixes (0x00 and 0x01), which is what keeps a leaf from passing for an interior node.
 */
export const HASH_BYTES = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = SHA-256(""), the root of the empty tree. Shared: never write into it. */
export const EMPTY_ROOT: Buffer = createHash("sha256").digest();

/** MTH({d}) = SHA-256(0x00 || d). */
export function hashLeaf(data: Uint8Array): Buffer {
  return createHash("sha256").update(LEAF_PREFIX).update(data).digest();
}

/** SHA-256(0x01 || left || right): the hash of an interior node from the hashes of its two children. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE_PREFIX).update(left).update(right).digest();
}
