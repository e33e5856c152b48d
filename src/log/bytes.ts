/** Small byte helpers shared inside src/log; not part of the log's public API. */

/** A Buffer over the same memory, so that callers may pass any Uint8Array and get Buffers back without a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toHex(bytes: Uint8Array): string {
  return asBuffer(bytes).toString("hex");
}
