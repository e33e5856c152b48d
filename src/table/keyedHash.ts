/**
 * A keyed 32-bit hash of a byte string, built from the ARX rounds of HalfSipHash-2-4 (Aumasson and
 * Bernstein): a table keyed with a secret seed cannot be flooded with values chosen to collide,
 * as it could with an unkeyed mix. Not a MAC; only for placing keys in hash tables.
 */
export type HashSeed = readonly [number, number];

export function keyedHash32(seed: HashSeed, data: Uint8Array): number {
  const state = new Uint32Array([seed[0], seed[1], 0x6c796765 ^ seed[0], 0x74656462 ^ seed[1]]);
  const wholeWords = data.length >>> 2;
  for (let w = 0; w < wholeWords; w++) {
    const i = w * 4;
    absorb(state, (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0);
  }
  let last = (data.length << 24) >>> 0;
  for (let i = wholeWords * 4; i < data.length; i++) last |= data[i]! << (8 * (i - wholeWords * 4));
  absorb(state, last >>> 0);
  state[2]! ^= 0xff;
  for (let r = 0; r < 4; r++) round(state);
  return (state[1]! ^ state[3]!) >>> 0;
}

function absorb(state: Uint32Array, word: number): void {
  state[3]! ^= word;
  round(state);
  round(state);
  state[0]! ^= word;
}

function round(v: Uint32Array): void {
  v[0] = v[0]! + v[1]!;
  v[1] = rotl(v[1]!, 5) ^ v[0]!;
  v[0] = rotl(v[0]!, 16);
  v[2] = v[2]! + v[3]!;
  v[3] = rotl(v[3]!, 8) ^ v[2]!;
  v[0] = v[0]! + v[3]!;
  v[3] = rotl(v[3]!, 7) ^ v[0]!;
  v[2] = v[2]! + v[1]!;
  v[1] = rotl(v[1]!, 13) ^ v[2]!;
  v[2] = rotl(v[2]!, 16);
}

function rotl(x: number, bits: number): number {
  return ((x << bits) | (x >>> (32 - bits))) >>> 0;
}
