import { createHash } from "node:crypto";

/**
 * Deterministic pseudo-random bytes (SHA-256 in counter mode over a label), so a failing case can be
 * reproduced from its label alone.
 */
export function pseudoRandomBytes(label: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; counter * 32 < length; counter++) {
    blocks.push(createHash("sha256").update(`${label}/${counter}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export function flipBit(bytes: Uint8Array, bitIndex: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bitIndex >> 3] ^= 1 << (bitIndex & 7);
  return copy;
}
