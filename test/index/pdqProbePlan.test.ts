/**
 * Goal: the pigeonhole plan never misses a hash within the distance, and enumerates the buckets it
 * says it does. Method: fast-check spreads d errors over the 16 halves in any way (the adversary's
 * choice, including evenly, the worst case) and checks that some probed half is within its radius
 * while its 32-bit word is within the word radius; the masks are counted against binomials.
 */
import fc from "fast-check";
import { flipMasks, HALF_RADIUS_MAX, isEnumerable, pdqProbePlan } from "../../src/index/pdqProbePlan";

/** A half the plan probes finds the hash: the half within its radius, its word within the word radius. */
function planFinds(distanceMax: number, halfErrors: readonly number[]): boolean {
  const plan = pdqProbePlan(distanceMax);
  return halfErrors.some((errors, half) => {
    const wordErrors = halfErrors[half & ~1]! + halfErrors[half | 1]!;
    return errors <= plan.halfRadius[half]! && wordErrors <= plan.wordRadius[half >>> 1]!;
  });
}

/** `distance` errors dealt to the 16 halves (at most 16 each) in the order `picks` says. */
function dealErrors(distance: number, picks: readonly number[]): number[] {
  const halfErrors = new Array<number>(16).fill(0);
  for (let dealt = 0, pick = 0; dealt < distance; pick++) {
    const half = (picks[pick % picks.length]! + Math.floor(pick / picks.length)) % 16;
    if (halfErrors[half]! < 16) {
      halfErrors[half]!++;
      dealt++;
    }
  }
  return halfErrors;
}

describe("pdqProbePlan", () => {
  test("finds every hash within d, however its errors are spread, for d = 0..255", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 64 }), (distanceMax, picks) => {
        const step = Math.max(1, distanceMax >> 3);
        for (const distance of [...Array.from({ length: Math.floor(distanceMax / step) + 1 }, (_, i) => i * step), distanceMax]) {
          expect({ distanceMax, distance, found: planFinds(distanceMax, dealErrors(distance, picks)) }).toEqual({ distanceMax, distance, found: true });
        }
      }),
      { numRuns: 500 },
    );
  });

  test("the even spread, the worst case, is found; 2 errors in every half escape the plan for 31", () => {
    for (let distance = 1; distance <= 63; distance++) {
      const even = Array.from({ length: 16 }, (_, half) => Math.floor(distance / 16) + (half < distance % 16 ? 1 : 0));
      expect({ distance, found: planFinds(distance, even) }).toEqual({ distance, found: true });
    }
    // 32 errors, 2 in each half and 4 in each word: outside every radius of the plan for 31.
    expect(planFinds(31, new Array<number>(16).fill(2))).toBe(false);
  });

  test("at d = 31 every word has radius 3 and every half radius 1: 16 x 17 buckets", () => {
    const plan = pdqProbePlan(31);
    expect([...plan.wordRadius]).toEqual(new Array(8).fill(3));
    expect([...plan.halfRadius]).toEqual(new Array(16).fill(1));
    expect(isEnumerable(plan)).toBe(true);
  });

  test("at d = 0 only the high half of word 0 is probed; above 63 the plan is not enumerable", () => {
    expect([...pdqProbePlan(0).halfRadius]).toEqual([0, ...new Array(15).fill(-1)]);
    expect(isEnumerable(pdqProbePlan(63))).toBe(true);
    expect(isEnumerable(pdqProbePlan(64))).toBe(false);
  });

  test("flip masks: C(k, w) masks of each weight w up to 3, each with w bits set", () => {
    const choose = (n: number, k: number): number => (k === 0 ? 1 : (choose(n, k - 1) * (n - k + 1)) / k);
    for (const keyBits of [1, 2, 5, 11, 16]) {
      const { masks, weightStarts } = flipMasks(keyBits);
      for (let weight = 0; weight <= HALF_RADIUS_MAX; weight++) {
        const ofWeight = [...masks.subarray(weightStarts[weight]!, weightStarts[weight + 1]!)];
        expect({ keyBits, weight, count: ofWeight.length }).toEqual({ keyBits, weight, count: weight <= keyBits ? choose(keyBits, weight) : 0 });
        for (const mask of ofWeight) expect(mask.toString(2).replaceAll("0", "").length).toBe(weight);
        expect(ofWeight.every((mask) => mask < 1 << keyBits)).toBe(true);
      }
    }
    expect(flipMasks(16).weightStarts[HALF_RADIUS_MAX + 1]).toBe(697);
  });
});
