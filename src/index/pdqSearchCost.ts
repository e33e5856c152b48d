/**
 * Rough costs of the two ways to search, to choose the cheaper one: nanoseconds per step, measured on
 * the development machine (a 2-core AMD EPYC virtual machine) with uniform random hashes, from 1,000
 * to 1 million entries and distances 8 to 63. Only their ratios matter.
 */
import { flipMasks, HALF_BITS, HALVES, type PdqProbePlan } from "./pdqProbePlan";

/** A bucket visited: its line (region start, count, first partners), mostly a cache miss in a large level. */
const BUCKET_NS = 100;
/** A posting read and its partner half tested. */
const POSTING_NS = 2;
/** A candidate's id decoded, its hash read and compared. */
const CANDIDATE_NS = 60;
/** An entry scanned: its first four words compared with the query's. */
const SCAN_NS = 11;
/** When those are within the distance: the other four, and a branch the processor cannot predict. */
const SCAN_SECOND_HALF_NS = 38;

/** The shape of a level that its probing cost depends on. */
export interface LevelShape {
  readonly keyBits: number;
  readonly entries: number;
}

/** Expected nanoseconds to probe `levels` with `plan`. */
export function probingCostNs(levels: readonly LevelShape[], plan: PdqProbePlan): number {
  let cost = 0;
  for (const level of levels) {
    const perBucket = level.entries / 2 ** level.keyBits;
    const { weightStarts } = flipMasks(level.keyBits);
    for (let half = 0; half < HALVES; half++) {
      const wordRadius = plan.wordRadius[half >>> 1]!;
      for (let flips = 0; flips <= plan.halfRadius[half]!; flips++) {
        const buckets = weightStarts[flips + 1]! - weightStarts[flips]!;
        const candidatesPerPosting = withinChance(PARTNER_WITHIN, wordRadius - flips);
        cost += buckets * (BUCKET_NS + perBucket * (POSTING_NS + candidatesPerPosting * CANDIDATE_NS));
      }
    }
  }
  return cost;
}

/** Expected nanoseconds to scan `entries` at `distanceMax`. */
export function scanningCostNs(entries: number, distanceMax: number): number {
  return entries * (SCAN_NS + withinChance(FIRST_HALF_WITHIN, distanceMax) * SCAN_SECOND_HALF_NS);
}

/** within[r]: the chance that n random bits have at most r set, for r = 0..n (n = within.length - 1). */
function chancesWithin(bits: number): Float64Array {
  const within = new Float64Array(bits + 1);
  for (let radius = 0, choose = 1, total = 0; radius <= bits; radius++) {
    total += choose;
    choose = (choose * (bits - radius)) / (radius + 1);
    within[radius] = total / 2 ** bits;
  }
  return within;
}

/** A random partner half (16 bits) against the query's. */
const PARTNER_WITHIN = chancesWithin(HALF_BITS);
/** The first four words of a random hash (128 bits) against the query's. */
const FIRST_HALF_WITHIN = chancesWithin(128);

function withinChance(within: Float64Array, radius: number): number {
  return radius < 0 ? 0 : radius >= within.length - 1 ? 1 : within[radius]!;
}
