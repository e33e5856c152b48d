import { assert } from "../assert";
import { PDQ_HASH_BYTES, pdqBit } from "./pdq";

/** The seven other orientations of an image: rotations (counter-clockwise) and flips, named as in the PDQ reference. */
export const PDQ_DIHEDRAL_VARIANTS = ["rot90", "rot180", "rot270", "flipX", "flipY", "flipPlus1", "flipMinus1"] as const;
export type PdqDihedralVariant = (typeof PDQ_DIHEDRAL_VARIANTS)[number];

const odd = (x: number): boolean => (x & 1) === 1;

/**
 * How each orientation moves DCT coefficient B[i][j] (reference/pdq.md §9): possibly transposed,
 * possibly negated. A negated coefficient lands on the other side of the median, so its bit flips.
 */
const RULES: Record<PdqDihedralVariant, { readonly transpose: boolean; readonly negate: (i: number, j: number) => boolean }> = {
  rot90: { transpose: true, negate: (_i, j) => !odd(j) },
  rot180: { transpose: false, negate: (i, j) => odd(i + j) },
  rot270: { transpose: true, negate: (i) => !odd(i) },
  flipX: { transpose: false, negate: (i) => !odd(i) },
  flipY: { transpose: false, negate: (_i, j) => !odd(j) },
  flipPlus1: { transpose: true, negate: () => false },
  flipMinus1: { transpose: true, negate: (i, j) => odd(i + j) },
};

/**
 * The PDQ hash of the image turned or flipped, from the hash alone. The reference recomputes the
 * median from the coefficients, which a hash no longer has; taking the median as unchanged flips
 * only bits that sat next to it, so the result is a near-duplicate of the true variant (within 18
 * bits on the reference's rotated bridge images), well inside a match distance of 31. A client
 * holding the image should hash its variants itself.
 */
export function pdqDihedralVariant(value: Uint8Array, variant: PdqDihedralVariant): Buffer {
  assert(value.length === PDQ_HASH_BYTES, `a PDQ hash is ${PDQ_HASH_BYTES} bytes, got ${value.length}`);
  const { transpose, negate } = RULES[variant];
  const out = Buffer.alloc(PDQ_HASH_BYTES);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      const bit = pdqBit(value, 16 * i + j) ^ (negate(i, j) ? 1 : 0);
      const k = transpose ? 16 * j + i : 16 * i + j;
      if (bit === 1) out[PDQ_HASH_BYTES - 1 - (k >> 3)]! |= 1 << (k & 7);
    }
  }
  return out;
}
