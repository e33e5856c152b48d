import { assert } from "../assert";

/**
 * Which buckets a multi-index search at distance d must visit, by the pigeonhole principle in two
 * steps (Norouzi, Punjani and Fleet, "Fast Exact Search in Hamming Space with Multi-Index Hashing").
 *
 * 1. A PDQ hash is 8 words of 32 bits. Write d = 8s + a with 0 <= a < 8: a hash within d of the
 *    query has some word 0..a within s bits of the query's, or some word a+1..7 within s - 1 (else
 *    the distance would be at least (a+1)(s+1) + (7-a)s = d + 1). That is the word's radius.
 * 2. A word is two 16-bit halves (the C++ reference's uint16 words). If the word is within radius r,
 *    its high half is within floor(r/2) or its low half within r - 1 - floor(r/2) (else the word
 *    would differ by at least r + 1). Those are the half radii; -1 means the half is not probed.
 *
 * So the search enumerates, for each probed half, the 16-bit values within its radius of the
 * query's, and takes the entries whose half has such a value; each also carries its word's other
 * half, and an entry is a candidate only when the whole word is within the word radius. At d = 31
 * that is 8 words at radius 3, 16 halves at radius 1: 16 x 17 buckets.
 */
export interface PdqProbePlan {
  /** Radius of each of the 8 words, -1 when the word is not probed. */
  readonly wordRadius: Int8Array;
  /** Radius of each of the 16 halves (2j: high half of word j, 2j + 1: low half), -1 when not probed. */
  readonly halfRadius: Int8Array;
}

export const WORDS = 8;
export const HALVES = 16;
export const HALF_BITS = 16;
/**
 * Buckets are enumerated up to 3 bits from the query's (697 of 65,536 for a 16-bit key): enough for
 * d <= 63, the largest distance a federation allows. Beyond, a search scans instead.
 */
export const HALF_RADIUS_MAX = 3;

/** Plans for distances 0..255, made once each: every search asks for one. */
const plansByDistance: PdqProbePlan[] = [];

export function pdqProbePlan(distanceMax: number): PdqProbePlan {
  assert(Number.isInteger(distanceMax) && distanceMax >= 0, `a distance is a whole number, got ${distanceMax}`);
  if (distanceMax >= 256) return planFor(distanceMax);
  plansByDistance[distanceMax] ??= planFor(distanceMax);
  return plansByDistance[distanceMax];
}

function planFor(distanceMax: number): PdqProbePlan {
  const spread = Math.floor(distanceMax / WORDS);
  const wordsAtSpread = distanceMax % WORDS;
  const wordRadius = new Int8Array(WORDS);
  const halfRadius = new Int8Array(HALVES);
  for (let word = 0; word < WORDS; word++) {
    const radius = Math.min(word <= wordsAtSpread ? spread : spread - 1, 127);
    const highRadius = radius < 0 ? -1 : Math.floor(radius / 2);
    wordRadius[word] = radius;
    halfRadius[2 * word] = highRadius;
    halfRadius[2 * word + 1] = radius < 0 ? -1 : radius - 1 - highRadius;
  }
  return { wordRadius, halfRadius };
}

/** Whether the plan's buckets can be enumerated (every half radius within HALF_RADIUS_MAX). */
export function isEnumerable(plan: PdqProbePlan): boolean {
  return plan.halfRadius.every((radius) => radius <= HALF_RADIUS_MAX);
}

/**
 * The XOR masks of `keyBits`-bit keys with at most HALF_RADIUS_MAX bits set, ordered by weight:
 * masks[weightStarts[w] .. weightStarts[w + 1]) have exactly w bits set.
 */
export interface FlipMasks {
  readonly masks: Uint16Array;
  readonly weightStarts: Uint16Array;
}

const flipMasksByKeyBits = new Map<number, FlipMasks>();

export function flipMasks(keyBits: number): FlipMasks {
  assert(Number.isInteger(keyBits) && keyBits >= 1 && keyBits <= HALF_BITS, `a bucket key has 1 to 16 bits, got ${keyBits}`);
  let found = flipMasksByKeyBits.get(keyBits);
  if (found === undefined) {
    found = enumerateFlipMasks(keyBits);
    flipMasksByKeyBits.set(keyBits, found);
  }
  return found;
}

function enumerateFlipMasks(keyBits: number): FlipMasks {
  const byWeight: number[][] = Array.from({ length: HALF_RADIUS_MAX + 1 }, () => []);
  for (let mask = 0; mask < 1 << keyBits; mask++) {
    const weight = bitCount(mask);
    if (weight <= HALF_RADIUS_MAX) byWeight[weight]!.push(mask);
  }
  const weightStarts = new Uint16Array(HALF_RADIUS_MAX + 2);
  byWeight.forEach((masks, weight) => (weightStarts[weight + 1] = weightStarts[weight]! + masks.length));
  return { masks: Uint16Array.from(byWeight.flat()), weightStarts };
}

function bitCount(value: number): number {
  let count = 0;
  for (let rest = value; rest !== 0; rest &= rest - 1) count++;
  return count;
}
