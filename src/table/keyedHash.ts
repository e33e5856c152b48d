/**
 * A keyed 32-bit hash of a byte string, built from the ARX rounds of HalfSipHash-2-4 (Aumasson and
 * Bernstein): a table keyed with a secret seed cannot be flooded with values chosen to collide,
 * as it could with an unkeyed mix. Not a MAC; only for placing keys in hash tables. Written with
 * locals rather than an array: it runs for every key a start-up replay inserts.
 */
export type HashSeed = readonly [number, number];

export function keyedHash32(seed: HashSeed, data: Uint8Array): number {
  let v0 = seed[0] | 0;
  let v1 = seed[1] | 0;
  let v2 = 0x6c796765 ^ v0;
  let v3 = 0x74656462 ^ v1;
  const rounds = (count: number): void => {
    for (let r = 0; r < count; r++) {
      v0 = (v0 + v1) | 0;
      v1 = rotl(v1, 5) ^ v0;
      v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0;
      v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0;
      v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0;
      v1 = rotl(v1, 13) ^ v2;
      v2 = rotl(v2, 16);
    }
  };
  const words = data.length >>> 2;
  let last = data.length << 24;
  for (let i = words << 2; i < data.length; i++) last |= data[i]! << (8 * (i & 3));
  for (let w = 0; w <= words; w++) {
    const i = w << 2;
    const m = w < words ? data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24) : last;
    v3 ^= m;
    rounds(2);
    v0 ^= m;
  }
  v2 ^= 0xff;
  rounds(4);
  return (v1 ^ v3) >>> 0;
}

function rotl(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}
