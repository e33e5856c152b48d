import { assert, AssertionError } from "../../src/assert";

/**
 * The simulator's only source of randomness: xoshiro128** (Blackman and Vigna, 2018), its 128-bit
 * state filled from a 32-bit seed by splitmix32. One seed fixes every draw of a whole run, so a
 * failing seed replays exactly.
 *
 * Streams are split by name, never shared: `fork(label)` derives a child from this generator's
 * *seed* and the label, not from its current position, so the network, the fault schedule, the
 * workload and each Byzantine node draw from their own streams, and adding a new consumer (or
 * drawing more from one) never shifts another's sequence. Everything is 32-bit integer arithmetic
 * (`Math.imul`, `>>> 0`), identical on every platform; `exponential` adds one `Math.log`, which V8
 * computes with its own fdlibm port, the same on every platform for a given Node version.
 */
export class Prng {
  /** The 32-bit seed this generator was built from: print it, and `new Prng(seed)` replays it. */
  readonly seed: number;
  /** The fork labels from the root generator to this one, joined by "/" ("" for a root). */
  readonly path: string;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Requires `seed` to be an integer in [0, 2^32). */
  constructor(seed: number, path = "") {
    assert(Number.isInteger(seed) && seed >= 0 && seed <= UINT32_MAX, `seed must be a uint32, got ${seed}`);
    this.seed = seed;
    this.path = path;
    let splitmixState = seed;
    const nextSeedWord = (): number => {
      splitmixState = (splitmixState + GOLDEN_GAMMA) >>> 0;
      return mix32(splitmixState);
    };
    this.s0 = nextSeedWord();
    this.s1 = nextSeedWord();
    this.s2 = nextSeedWord();
    this.s3 = nextSeedWord();
    // xoshiro's one forbidden state; splitmix32 practically never yields it, but never is cheap.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the exact state given (not all zero): only for checking published vectors. */
  static fromState(state: readonly [number, number, number, number]): Prng {
    assert(state.some((word) => word !== 0), "xoshiro128** state must not be all zero");
    const prng = new Prng(0, "fromState");
    [prng.s0, prng.s1, prng.s2, prng.s3] = state.map((word) => word >>> 0) as [number, number, number, number];
    return prng;
  }

  /**
   * An independent stream named `label`, a function of (this seed, label) only: forking does not
   * draw from this generator, and forking the same label twice gives two equal streams.
   */
  fork(label: string): Prng {
    const forkSeed = mix32((mix32(this.seed ^ FORK_DOMAIN) ^ fnv1a32(label)) >>> 0);
    return new Prng(forkSeed, this.path === "" ? label : `${this.path}/${label}`);
  }

  /** The next uint32 of the stream: xoshiro128** ("rotl(s1 * 5, 7) * 9"). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const shifted = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= shifted;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1), with 32 bits of randomness: one draw. */
  float(): number {
    return this.next() / TWO_POW_32;
  }

  /**
   * A uniform integer in [minInclusive, maxInclusive], without modulo bias (rejection sampling).
   * Requires integers with minInclusive <= maxInclusive and a span of at most 2^32 values.
   */
  int(minInclusive: number, maxInclusive: number): number {
    // Hot path: the checks build their messages only on failure (assert() would build them every call).
    if (!Number.isSafeInteger(minInclusive)) throw new AssertionError(`int: min must be a safe integer, got ${minInclusive}`);
    if (!Number.isSafeInteger(maxInclusive)) throw new AssertionError(`int: max must be a safe integer, got ${maxInclusive}`);
    if (minInclusive > maxInclusive) throw new AssertionError(`int: min ${minInclusive} > max ${maxInclusive}`);
    const span = maxInclusive - minInclusive + 1;
    if (span > TWO_POW_32) throw new AssertionError(`int: span ${span} exceeds 2^32`);
    if (span === TWO_POW_32) return minInclusive + this.next();
    // Accept only draws below the largest multiple of span, so every residue is equally likely.
    const acceptBelow = TWO_POW_32 - (TWO_POW_32 % span);
    for (;;) {
      const draw = this.next();
      if (draw < acceptBelow) return minInclusive + (draw % span);
    }
  }

  /** True with probability p (0 never, 1 always). Always one draw, whatever p is. */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new AssertionError(`chance: p must be in [0, 1], got ${p}`);
    return this.float() < p;
  }

  /** An exponentially distributed value with the given mean (>= 0); finite, since 1 - float() > 0. */
  exponential(mean: number): number {
    if (!(Number.isFinite(mean) && mean >= 0)) throw new AssertionError(`exponential: mean must be finite and >= 0, got ${mean}`);
    return -mean * Math.log(1 - this.float());
  }

  /** A uniformly chosen element. Requires a non-empty array. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, "pick: no items to pick from");
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index--) {
      const other = this.int(0, index);
      const held = items[index] as T;
      items[index] = items[other] as T;
      items[other] = held;
    }
    return items;
  }

  /** n random bytes (one draw per 4 bytes). */
  bytes(n: number): Buffer {
    assert(Number.isSafeInteger(n) && n >= 0, `bytes: n must be a non-negative integer, got ${n}`);
    const buffer = Buffer.alloc(n);
    for (let offset = 0; offset < n; offset += 4) {
      const word = this.next();
      for (let byte = 0; byte < 4 && offset + byte < n; byte++) buffer[offset + byte] = (word >>> (8 * byte)) & 0xff;
    }
    return buffer;
  }
}

const UINT32_MAX = 0xffff_ffff;
const TWO_POW_32 = 0x1_0000_0000;
/** splitmix32's increment: 2^32 divided by the golden ratio. */
const GOLDEN_GAMMA = 0x9e37_79b9;
/** Separates fork seeds from root seeds, so that fork(label) of seed s is not simply seed s' of another root. */
const FORK_DOMAIN = 0x5f0c_2d1b;

function rotl(value: number, shift: number): number {
  return ((value << shift) | (value >>> (32 - shift))) >>> 0;
}

/** splitmix32's output function (the MurmurHash3 finaliser): a bijection on uint32 that mixes every bit. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the label's UTF-8 bytes: names a fork. */
function fnv1a32(label: string): number {
  let hash = 0x811c_9dc5;
  for (const byte of Buffer.from(label, "utf8")) hash = Math.imul(hash ^ byte, 0x0100_0193);
  return hash >>> 0;
}
