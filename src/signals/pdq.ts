import { assert } from "../assert";
import { invalid } from "../errors";

/**
 * PDQ hashes as hashfed holds them: 32 raw bytes, the big-endian form of the 256-bit integer
 * sum(bit_k * 2^k), which is exactly Buffer.from(hex, "hex") of the reference text form (the C++
 * prints its 16 uint16 words from w[15] down to w[0], each as %04hx).
 *
 * Bit k = 16*i + j is set when DCT coefficient B[i][j] (vertical frequency i+1, horizontal frequency
 * j+1) is above the median, and it lives in bytes[31 - (k >> 3)] at bit (k & 7). So row i of the
 * DCT is bytes 30-2i and 31-2i, and the first hex characters hold the highest frequencies. Hamming
 * distance does not depend on this order; the multi-index chunks and anything that maps bits back
 * to the image do.
 */
export const PDQ_HASH_BYTES = 32;
export const PDQ_HASH_BITS = 256;
export const PDQ_QUALITY_MAX = 100;

/** Bit k (0..255) of a PDQ hash in the reference numbering above. */
export function pdqBit(value: Uint8Array, k: number): 0 | 1 {
  assert(value.length === PDQ_HASH_BYTES, `a PDQ hash is ${PDQ_HASH_BYTES} bytes, got ${value.length}`);
  assert(Number.isInteger(k) && k >= 0 && k < PDQ_HASH_BITS, `a PDQ bit index is 0..255, got ${k}`);
  return ((value[PDQ_HASH_BYTES - 1 - (k >> 3)]! >> (k & 7)) & 1) as 0 | 1;
}

/** Number of set bits in a 32-bit word, by the parallel (SWAR) method: a handful of operations, no loop. */
export function popcount32(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Hamming distance of two PDQ hashes (0..256): the match test, run for every candidate the index
 * finds, so it works on 32-bit words. Byte order inside a word does not matter to a popcount.
 * Requires both to be 32 bytes: values are checked at the edge, so a wrong length here is a bug.
 */
export function pdqDistance(a: Uint8Array, b: Uint8Array): number {
  // The messages are built only on failure: this runs millions of times a second.
  if (a.length !== PDQ_HASH_BYTES) assert(false, `a PDQ hash is ${PDQ_HASH_BYTES} bytes, got ${a.length}`);
  if (b.length !== PDQ_HASH_BYTES) assert(false, `a PDQ hash is ${PDQ_HASH_BYTES} bytes, got ${b.length}`);
  let distance = 0;
  for (let offset = 0; offset < PDQ_HASH_BYTES; offset += 4) {
    const word =
      (a[offset]! ^ b[offset]!) |
      ((a[offset + 1]! ^ b[offset + 1]!) << 8) |
      ((a[offset + 2]! ^ b[offset + 2]!) << 16) |
      ((a[offset + 3]! ^ b[offset + 3]!) << 24);
    distance += popcount32(word);
  }
  return distance;
}

/**
 * Checks the quality a submitter reports with a PDQ hash. Quality (0..100) measures how much
 * gradient the image has; the PDQ reference says to discard hashes of quality 49 and below because
 * near-flat images give near-identical hashes that match unrelated content. The federation sets the
 * minimum (parameters.pdqQualityMin), which is itself 0..100.
 */
export function checkPdqQuality(quality: number, qualityMin: number): void {
  assert(Number.isInteger(qualityMin), `pdqQualityMin must be an integer, got ${qualityMin}`);
  assert(qualityMin >= 0 && qualityMin <= PDQ_QUALITY_MAX, `pdqQualityMin is 0..100, got ${qualityMin}`);
  if (!Number.isInteger(quality) || quality < 0 || quality > PDQ_QUALITY_MAX) {
    throw invalid("PDQ_QUALITY_BAD", `a PDQ quality is an integer from 0 to ${PDQ_QUALITY_MAX}, got ${quality}`);
  }
  if (quality < qualityMin) {
    throw invalid(
      "PDQ_QUALITY_LOW",
      `PDQ quality ${quality} is below this federation's minimum of ${qualityMin}: ` +
        "low-quality hashes come from flat or nearly flat images and match unrelated content",
    );
  }
}

/**
 * Checks a PDQ hash that is to be added to the list. The all-zero hash is rejected whatever quality
 * is claimed for it: it is what PDQ returns for a flat image or one under 5 pixels a side (with
 * quality 0), so it identifies no content, and it is also the shape of a corrupt entry (a run of
 * "0000...", ThreatExchange #1609). Quality is self-reported, so this check does not rely on it.
 * Only additions need this check: a match query for the zero hash is harmless.
 * Nothing else is rejected by popcount: a reference hash has at most 128 bits set, but other
 * pipelines and the test vectors carry hashes with up to 142, and rejecting them would break interop.
 */
export function checkPdqHash(value: Uint8Array): void {
  if (value.length !== PDQ_HASH_BYTES) {
    throw invalid("SIGNAL_VALUE_BAD_LENGTH", `a pdq hash is ${PDQ_HASH_BYTES} bytes, got ${value.length}`);
  }
  if (value.every((byte) => byte === 0)) {
    throw invalid(
      "PDQ_HASH_ALL_ZERO",
      "the all-zero PDQ hash is what a flat (or tiny) image hashes to, or a corrupt value: it identifies no content",
    );
  }
}
