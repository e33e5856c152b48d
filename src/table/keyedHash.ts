/**
 * A keyed 32-bit hash of a byte string, built from the ARX rounds of HalfSipHash-2-4 (Aumasson and
 * Bernstein): a table keyed with a secret seed cannot be flooded with values chosen to collide,
 * as it could with an unkeyed mix. Not a MAC; only for placing keys in hash tables. It runs for
 * every key a start-up replay inserts and every statement id looked up under load, so the four
 * state words live in one reused array: a closure over locals would allocate a context per call.
 */
export type HashSeed = readonly [number, number];

const state = new Int32Array(4);

export function keyedHash32(seed: HashSeed, data: Uint8Array): number {
  state[0] = seed[0];
  state[1] = seed[1];
  state[2] = 0x6c796765 ^ seed[0];
  state[3] = 0x74656462 ^ seed[1];
  const words = data.length >>> 2;
  let last = data.length << 24;
  for (let i = words << 2; i < data.length; i++) last |= data[i]! << (8 * (i & 3));
  for (let w = 0; w <= words; w++) {
    const i = w << 2;
    const m = w < words ? data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24) : last;
    state[3]! ^= m;
    sipRounds(2);
    state[0]! ^= m;
  }
  state[2]! ^= 0xff;
  sipRounds(4);
  return (state[1]! ^ state[3]!) >>> 0;
}

function sipRounds(count: number): void {
  let v0 = state[0]!;
  let v1 = state[1]!;
  let v2 = state[2]!;
  let v3 = state[3]!;
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
  state[0] = v0;
  state[1] = v1;
  state[2] = v2;
  state[3] = v3;
}

function rotl(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}
