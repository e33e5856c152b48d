/**
 * Which validators' votes a status says its sender holds: bit i (byte i/8, low bit first) for the
 * i-th validator of the federation file. Another peer's bitmap is untrusted: a short or garbled one
 * only makes that peer miss re-sends it would have had.
 */
export function voterBitmap(validators: readonly string[], voters: Iterable<string>): Buffer {
  const bitmap = Buffer.alloc(Math.ceil(validators.length / 8));
  for (const voter of voters) {
    const index = validators.indexOf(voter);
    if (index >= 0) bitmap[index >> 3]! |= 1 << (index & 7);
  }
  return bitmap;
}

export function bitmapHas(bitmap: Uint8Array, index: number): boolean {
  return index >= 0 && ((bitmap[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
}
