import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { AssertionError } from "../../src/assert";
import { DEFAULT_PARAMETERS } from "../../src/federation";
import { checkPdqHash, checkPdqQuality, pdqBit, pdqDistance, popcount32, signalType } from "../../src/signals";
import { hashfedError as thrown } from "../support/hashfedErrors";

/**
 * Goal: the fast PDQ distance equals the definition, the bit order is the reference's, and the
 * quality and zero-hash rules hold. Method: a naive per-bit reference on random pairs and on the
 * reference haystack and needles, BigInt for the bit order, and tables for the checks.
 */

const VECTORS = path.resolve(__dirname, "../..", "../shared/vectors/pdq");
const pdq = signalType("pdq");
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** The definition: count differing bits one at a time. Slow on purpose. */
function naiveDistance(a: Uint8Array, b: Uint8Array): number {
  let distance = 0;
  for (let byte = 0; byte < 32; byte++) {
    for (let bit = 0; bit < 8; bit++) distance += ((a[byte]! >> bit) & 1) !== ((b[byte]! >> bit) & 1) ? 1 : 0;
  }
  return distance;
}

function naivePopcount(word: number): number {
  let count = 0;
  for (let bit = 0; bit < 32; bit++) count += (word >>> bit) & 1;
  return count;
}


describe("popcount32", () => {
  test("edges", () => {
    expect(popcount32(0)).toBe(0);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0x80000000)).toBe(1);
    expect(popcount32(-1)).toBe(32);
    expect(popcount32(0x55555555)).toBe(16);
  });

  test("equals counting bit by bit", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (word) => popcount32(word) === naivePopcount(word)));
  });
});

describe("pdqDistance", () => {
  test("equals the per-bit definition on random pairs", () => {
    fc.assert(fc.property(hash32, hash32, (a, b) => pdqDistance(a, b) === naiveDistance(a, b)), { numRuns: 2000 });
  });

  test("is a metric: zero on itself, symmetric, triangle inequality, 256 against the complement", () => {
    fc.assert(
      fc.property(hash32, hash32, hash32, (a, b, c) => {
        expect(pdqDistance(a, a)).toBe(0);
        expect(pdqDistance(a, b)).toBe(pdqDistance(b, a));
        expect(pdqDistance(a, c)).toBeLessThanOrEqual(pdqDistance(a, b) + pdqDistance(b, c));
        expect(pdqDistance(a, a.map((byte) => byte ^ 0xff))).toBe(256);
      }),
    );
  });

  test("works on views at any offset of a larger buffer", () => {
    fc.assert(
      fc.property(hash32, hash32, fc.integer({ min: 0, max: 7 }), (a, b, offset) => {
        const backing = new Uint8Array(80).fill(0xa5);
        backing.set(a, offset);
        backing.set(b, 40 + offset);
        const viewA = backing.subarray(offset, offset + 32);
        const viewB = backing.subarray(40 + offset, 72 + offset);
        return pdqDistance(viewA, viewB) === naiveDistance(a, b);
      }),
    );
  });

  test("a wrong length is a programmer error", () => {
    expect(() => pdqDistance(new Uint8Array(31), new Uint8Array(32))).toThrow(AssertionError);
    expect(() => pdqDistance(new Uint8Array(32), new Uint8Array(16))).toThrow(AssertionError);
  });
});

describe("bit order", () => {
  test("bit k is bit k of the big-endian 256-bit integer the hex spells", () => {
    fc.assert(
      fc.property(hash32, fc.integer({ min: 0, max: 255 }), (value, k) => {
        const integer = BigInt(`0x${pdq.format(value)}`);
        return pdqBit(value, k) === Number((integer >> BigInt(k)) & 1n);
      }),
    );
  });

  test("bit 0 is the last hex digit, bit 255 the first, and word w[i] = DCT row i is hex digits 60-4i..63-4i", () => {
    expect(pdqBit(pdq.parse(`${"0".repeat(63)}1`), 0)).toBe(1);
    expect(pdqBit(pdq.parse(`8${"0".repeat(63)}`), 255)).toBe(1);
    // Row 1, column 3 of the DCT is bit 16 + 3 = 19: word w[1] = 0x0008, the second-last group of four.
    const row1Column3 = pdq.parse(`${"0".repeat(56)}00080000`);
    expect(pdqBit(row1Column3, 19)).toBe(1);
    expect(pdqDistance(row1Column3, new Uint8Array(32))).toBe(1);
  });
});

describe("the reference haystack and needles (vectors/pdq)", () => {
  const readHashes = (name: string): string[] => readFileSync(path.join(VECTORS, name), "utf8").split("\n").filter((line) => line !== "");
  const haystackText = readHashes("haystack.txt");
  const needlesText = readHashes("needles.txt");

  test("every line parses and formats back to itself", () => {
    expect(haystackText.length).toBe(1350);
    expect(needlesText.length).toBe(100);
    for (const text of [...haystackText, ...needlesText]) expect(pdq.format(pdq.parse(text))).toBe(text);
  });

  test("each needle's nearest haystack hash and its matches within the default distance agree with the per-bit count", () => {
    const haystack = haystackText.map((text) => pdq.parse(text));
    const distanceMax = DEFAULT_PARAMETERS.pdqDistanceMax;
    needlesText.forEach((text, needleIndex) => {
      const needle = pdq.parse(text);
      const fast = haystack.map((hash) => pdqDistance(needle, hash));
      const naive = haystack.map((hash) => naiveDistance(needle, hash));
      expect({ needleIndex, distances: fast }).toEqual({ needleIndex, distances: naive });
      // Every needle in the reference set has a near-duplicate in the haystack.
      expect({ needleIndex, nearest: Math.min(...fast) <= distanceMax }).toEqual({ needleIndex, nearest: true });
      expect(fast.filter((distance) => distance <= distanceMax).length).toBeGreaterThanOrEqual(2);
    });
  });
});

describe("checkPdqQuality", () => {
  test.each([
    [50, 50],
    [100, 50],
    [0, 0],
    [100, 100],
  ])("accepts quality %d with minimum %d", (quality, qualityMin) => {
    expect(() => checkPdqQuality(quality, qualityMin)).not.toThrow();
  });

  test("rejects quality below the minimum, saying the minimum", () => {
    const error = thrown(() => checkPdqQuality(49, 50));
    expect(error.kind).toBe("invalid");
    expect(error.code).toBe("PDQ_QUALITY_LOW");
    expect(error.message).toMatch(/^PDQ quality 49 is below this federation's minimum of 50/);
  });

  test.each([-1, 101, 50.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects the quality %d as out of range", (quality) => {
    const error = thrown(() => checkPdqQuality(quality, 0));
    expect(error.code).toBe("PDQ_QUALITY_BAD");
    expect(error.message).toBe(`a PDQ quality is an integer from 0 to 100, got ${quality}`);
  });

  test("a bad minimum is a programmer error (the federation file checks it)", () => {
    expect(() => checkPdqQuality(50, 101)).toThrow(AssertionError);
    expect(() => checkPdqQuality(50, 0.5)).toThrow(AssertionError);
  });
});

describe("checkPdqHash", () => {
  test("rejects the all-zero hash, the flat-image and corrupt-entry value (#1609)", () => {
    const error = thrown(() => checkPdqHash(pdq.parse("0".repeat(64))));
    expect(error.code).toBe("PDQ_HASH_ALL_ZERO");
    expect(error.message).toContain("flat");
  });

  test("accepts any hash with a bit set, including one bit", () => {
    expect(() => checkPdqHash(pdq.parse(`${"0".repeat(63)}1`))).not.toThrow();
    fc.assert(fc.property(hash32.filter((value) => value.some((byte) => byte !== 0)), (value) => checkPdqHash(value) === undefined));
  });

  test("rejects a wrong length", () => {
    const error = thrown(() => checkPdqHash(new Uint8Array(16)));
    expect(error.code).toBe("SIGNAL_VALUE_BAD_LENGTH");
    expect(error.message).toBe("a pdq hash is 32 bytes, got 16");
  });
});
