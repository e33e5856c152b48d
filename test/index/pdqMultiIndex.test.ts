/**
 * Goal: the multi-index returns exactly what a scan returns, at every distance, through adds,
 * removals and the re-indexing they cause (levels built, merged, compacted). Method: the reference
 * haystack and needles against PdqScanIndex at every distance 0..63; fast-check with random hashes
 * and hashes planted at distance exactly d and d + 1 of stored ones, at random bits or spread over
 * the halves as an adversary would (the pigeonhole's worst case); 70,000 hashes, so that a level has
 * full 16-bit buckets and relative ids above 16 bits; random add/remove/search sequences.
 */
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { AssertionError } from "../../src/assert";
import { PdqMultiIndex, PdqScanIndex } from "../../src/index";
import { PENDING_SCAN_MAX } from "../../src/index/pdqMultiIndex";
import { pdqDistance, signalType } from "../../src/signals";

const VECTORS = path.resolve(__dirname, "../..", "../shared/vectors/pdq");
const PLANTED_DISTANCES = [0, 1, 15, 16, 31, 32, 47, 63];
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** `value` with the bits at `positions` (0..255, distinct) flipped: at distance positions.length from it. */
function flipBits(value: Uint8Array, positions: readonly number[]): Buffer {
  const flipped = Buffer.from(value);
  for (const bit of positions) flipped[bit >> 3]! ^= 1 << (bit & 7);
  return flipped;
}

/** A random set of `count` distinct bit positions, from Math.random: for the large, non-shrinking tests. */
function randomPositions(count: number): number[] {
  const positions = new Set<number>();
  while (positions.size < count) positions.add(Math.floor(Math.random() * 256));
  return [...positions];
}

/**
 * Bits of a half from the most significant down (byte 2h bit 7 first, byte 2h + 1 bit 0 last), so
 * that picks 0..3 fall in the top bits, which even the small levels' shorter bucket keys include.
 */
const HALF_BITS_FROM_TOP = [7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8];

/**
 * `count` distinct bit positions dealt round the 16 halves (half h is bytes 2h and 2h + 1, positions
 * 16h..16h + 15) from `startHalf`, the `bitPicks[i]`-th bit from the top (or the next free one) of
 * each: the adversary's spread, which leaves each half as few errors under its radius as the
 * distance allows, so that a plan one bit short misses it.
 */
function spreadPositions(count: number, startHalf: number, bitPicks: readonly number[]): number[] {
  const positions = new Set<number>();
  for (let i = 0; i < count; i++) {
    const half = (startHalf + i) % 16;
    let pick = bitPicks[i % bitPicks.length]! % 16;
    while (positions.has(16 * half + HALF_BITS_FROM_TOP[pick]!)) pick = (pick + 1) % 16;
    positions.add(16 * half + HALF_BITS_FROM_TOP[pick]!);
  }
  return [...positions];
}

/** Both indexes over the same hashes, log index i for hash i (or as given), the multi-index fully indexed. */
function bothOver(hashes: readonly Uint8Array[], logIndexes = hashes.map((_, i) => i)): { multi: PdqMultiIndex; scan: PdqScanIndex } {
  const multi = new PdqMultiIndex();
  const scan = new PdqScanIndex();
  hashes.forEach((hash, i) => {
    multi.add(hash, logIndexes[i]!);
    scan.add(hash, logIndexes[i]!);
  });
  multi.indexPending();
  return { multi, scan };
}

/** Adds `count` more hashes to both, half of them near-duplicates of the first stored ones, at the next log indexes. */
function addMore(multi: PdqMultiIndex, scan: PdqScanIndex, stored: Buffer[], count: number): void {
  for (let i = 0; i < count; i++) {
    const value = i % 2 === 0 ? flipBits(stored[i]!, randomPositions(i % 32)) : randomBytes(32);
    multi.add(value, stored.length);
    scan.add(value, stored.length);
    stored.push(value);
  }
}

/**
 * Indexing slices far smaller than a node's, one before each comparison: a build spans several
 * searches, with adds and removals in between, as a node's builds span matches and commits.
 */
const TEST_SLICE_WORDS = 4000;

/**
 * The multi-index by probing (up to 63), by its own choice, and by scanning, each against the
 * baseline scan, after one slice of indexing.
 */
function expectSameResults(multi: PdqMultiIndex, scan: PdqScanIndex, query: Uint8Array, distanceMax: number): void {
  multi.indexSlice(TEST_SLICE_WORDS);
  const label = { query: Buffer.from(query).toString("hex"), distanceMax };
  const expected = scan.search(query, distanceMax);
  if (distanceMax <= 63) expect({ ...label, probing: multi.searchByProbing(query, distanceMax) }).toEqual({ ...label, probing: expected });
  expect({ ...label, chosen: multi.search(query, distanceMax) }).toEqual({ ...label, chosen: expected });
  expect({ ...label, scanning: multi.searchByScanning(query, distanceMax) }).toEqual({ ...label, scanning: expected });
}

describe("the reference haystack and needles (vectors/pdq)", () => {
  const pdq = signalType("pdq");
  const read = (name: string): Buffer[] =>
    readFileSync(path.join(VECTORS, name), "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => pdq.parse(line));
  const haystack = read("haystack.txt");
  const needles = read("needles.txt");
  const { multi, scan } = bothOver(haystack);

  /** Results for each query at each distance, as one structure: one comparison, whose diff names the query and distance. */
  const resultsOf = (search: (query: Uint8Array, distanceMax: number) => unknown, queries: readonly Uint8Array[], distances: readonly number[]) =>
    queries.map((query) => distances.map((distanceMax) => search(query, distanceMax)));
  const byProbing = (query: Uint8Array, distanceMax: number) => multi.searchByProbing(query, distanceMax);
  const byScan = (query: Uint8Array, distanceMax: number) => scan.search(query, distanceMax);

  test("each needle finds by probing what a scan finds, at every distance 0..63", () => {
    expect(haystack.length).toBeGreaterThan(PENDING_SCAN_MAX);
    const distances = Array.from({ length: 64 }, (_, d) => d);
    expect(resultsOf(byProbing, needles, distances)).toEqual(resultsOf(byScan, needles, distances));
  });

  test("each haystack hash finds itself and what a scan finds, at 0, 31, 32 and 63", () => {
    const distances = [0, 31, 32, 63];
    const results = resultsOf(byProbing, haystack, distances) as { logIndex: number }[][][];
    expect(results).toEqual(resultsOf(byScan, haystack, distances));
    expect(results.every((atDistances, i) => atDistances[0]!.some((hit) => hit.logIndex === i))).toBe(true);
    for (const needle of needles.slice(0, 20)) for (const distanceMax of [0, 31, 63]) expectSameResults(multi, scan, needle, distanceMax);
  });

  test("distances above 63, where probing would enumerate too many buckets, are scanned, with the same results", () => {
    for (const needle of needles.slice(0, 5)) for (const distanceMax of [64, 90, 128, 256]) expectSameResults(multi, scan, needle, distanceMax);
  });
});

describe("planted near-duplicates", () => {
  test("a hash at distance exactly d of a stored one is found at d, and one at d + 1 is not, as by a scan", () => {
    const planted = fc.constantFrom(...PLANTED_DISTANCES).chain((distance) =>
      fc.tuple(
        fc.constant(distance),
        fc.oneof(
          fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: distance + 1, maxLength: distance + 1 }),
          fc.tuple(fc.integer({ min: 0, max: 15 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 64 })).map(([start, picks]) => spreadPositions(distance + 1, start, picks)),
        ),
      ),
    );
    fc.assert(
      fc.property(fc.array(hash32, { minLength: 1, maxLength: 1200 }), fc.nat(), planted, (stored, pick, [distance, positions]) => {
        const { multi, scan } = bothOver(stored);
        const target = pick % stored.length;
        const atDistance = flipBits(stored[target]!, positions.slice(0, distance));
        const beyond = flipBits(stored[target]!, positions);
        expect(multi.searchByProbing(atDistance, distance)).toContainEqual({ logIndex: target, distance });
        expect(multi.searchByProbing(beyond, distance).some((hit) => hit.logIndex === target)).toBe(false);
        for (const query of [atDistance, beyond]) for (const distanceMax of [distance, distance + 1]) expectSameResults(multi, scan, query, distanceMax);
      }),
      { numRuns: 150 },
    );
  });

  describe("70,000 hashes (13-bit bucket keys, relative ids past 65,536), near-duplicates planted at random and spread", () => {
    const stored: Uint8Array[] = Array.from({ length: 70_000 }, () => randomBytes(32));
    const plantedAt = new Map<number, number>();
    for (let i = 0; i < 32; i++) {
      const source = Math.floor(Math.random() * stored.length);
      const distance = PLANTED_DISTANCES[(i >> 1) % PLANTED_DISTANCES.length]!;
      const positions = i % 2 === 0 ? randomPositions(distance) : spreadPositions(distance, (i * 7) % 16, [i % 4]);
      stored.push(flipBits(stored[source]!, positions));
      plantedAt.set(stored.length - 1, source);
    }
    const { multi, scan } = bothOver(stored);

    test("each planted copy finds its source, and every search agrees with a scan", () => {
      for (const [copy, source] of plantedAt) {
        const distance = pdqDistance(stored[copy]!, stored[source]!);
        for (const distanceMax of [distance - 1, distance, 31, 63].filter((d) => d >= 0)) expectSameResults(multi, scan, stored[copy]!, distanceMax);
        expect(multi.searchByProbing(stored[copy]!, distance)).toContainEqual({ logIndex: source, distance });
      }
      for (let i = 0; i < 10; i++) expectSameResults(multi, scan, randomBytes(32), 31);
    });

    test("the adversary's spread of d errors is found at d, for every d in 0..63 and every starting half", () => {
      // Also on 3,000 hashes, whose level has 8-bit bucket keys.
      const small = bothOver(stored.slice(0, 3000)).multi;
      for (const index of [small, multi]) {
        const missed: { size: number; distance: number; startHalf: number }[] = [];
        for (let distance = 0; distance <= 63; distance++) {
          for (let startHalf = 0; startHalf < 16; startHalf++) {
            const target = (distance * 16 + startHalf) % index.size;
            const query = flipBits(stored[target]!, spreadPositions(distance, startHalf, [distance % 4, startHalf % 4]));
            const hits = index.searchByProbing(query, distance);
            if (!hits.some((hit) => hit.logIndex === target && hit.distance === distance)) missed.push({ size: index.size, distance, startHalf });
          }
        }
        expect(missed).toEqual([]);
      }
    });
  });
});

describe("bucket shapes", () => {
  test("600,000 hashes: full 16-bit bucket keys; planted copies find their sources, and searches agree with a scan", () => {
    const stored: Uint8Array[] = Array.from({ length: 600_000 }, () => randomBytes(32));
    const sources = [0, 1, 299_999, 599_999];
    for (const source of sources) stored.push(flipBits(stored[source]!, randomPositions(31)));
    const { multi, scan } = bothOver(stored);
    sources.forEach((source, i) => {
      expect(multi.searchByProbing(stored[600_000 + i]!, 31)).toContainEqual({ logIndex: source, distance: 31 });
      expectSameResults(multi, scan, stored[600_000 + i]!, 31);
    });
    for (let i = 0; i < 4; i++) expectSameResults(multi, scan, randomBytes(32), 31);
  });

  test("crowded buckets: thousands of hashes sharing a word, past a bucket's line and a scan's output, with high id parts, agree with a scan", () => {
    // 5,000 hashes share their first word, after 70,000 that share neither of its halves' top bytes:
    // two buckets hold exactly those 5,000 postings, in id order (rank r is the r-th of them), with
    // relative ids past 65,536, and their partners all pass a query with that word: more than a line
    // holds, and more than one scan's output.
    const shared = randomBytes(4);
    const others = Array.from({ length: 70_000 }, () => {
      const hash = randomBytes(32);
      hash[0] = shared[0]! ^ (1 + (hash[0]! % 255));
      hash[2] = shared[2]! ^ (1 + (hash[2]! % 255));
      return hash;
    });
    const crowded = Array.from({ length: 5_000 }, () => Buffer.concat([shared, randomBytes(28)]));
    const stored: Uint8Array[] = [...others, ...crowded];
    const { multi, scan } = bothOver(stored);
    // Four bits off in each other word (28 in all), all in the top byte of its high half: past the
    // radius at d = 31 (3) in both of the word's tables, by key or by partner, so only the crowded
    // buckets can find the target, from the rank of its posting there.
    const onlyByTheSharedWord = Array.from({ length: 28 }, (_, i) => 32 * (1 + (i >> 2)) + 7 - (i & 3));
    // Ranks 27 and 28: the last partner in the line and the first in the region.
    for (const rank of [0, 27, 28, 29, 4_999]) {
      const target = others.length + rank;
      const query = flipBits(stored[target]!, onlyByTheSharedWord);
      expect(multi.searchByProbing(query, 31)).toContainEqual({ logIndex: target, distance: 28 });
      expectSameResults(multi, scan, query, 31);
      for (const distance of [0, 5, 31]) expectSameResults(multi, scan, flipBits(stored[target]!, randomPositions(distance).filter((bit) => bit >= 32)), 31);
      expectSameResults(multi, scan, stored[target]!, 63);
    }
    expectSameResults(multi, scan, Buffer.concat([shared, randomBytes(28)]), 31);
  });

  test("no level holds more than the index's cap: larger lists, and their compaction, are split into several", () => {
    const multi = new PdqMultiIndex(1_000);
    const scan = new PdqScanIndex();
    const stored: Buffer[] = Array.from({ length: 4_500 }, () => randomBytes(32));
    stored.forEach((hash, i) => {
      multi.add(hash, i);
      scan.add(hash, i);
    });
    addMore(multi, scan, stored, 500);
    multi.indexPending();
    expect(multi.unindexedCount).toBe(0);
    expect(Math.max(...multi.levelSizes)).toBeLessThanOrEqual(1_000);
    expect(multi.levelSizes.reduce((total, size) => total + size, 0)).toBe(5_000);
    for (let i = 0; i < 10; i++) expectSameResults(multi, scan, stored[4_500 + 2 * i]!, 31);
    // Past an eighth removed, everything is renumbered and built anew, still in levels of at most 1,000.
    for (let logIndex = 0; logIndex < 1_000; logIndex++) {
      multi.remove(logIndex);
      scan.remove(logIndex);
    }
    multi.indexPending();
    expect(Math.max(...multi.levelSizes)).toBeLessThanOrEqual(1_000);
    expect(multi.levelSizes.reduce((total, size) => total + size, 0)).toBe(4_000);
    for (let i = 0; i < 10; i++) expectSameResults(multi, scan, stored[4_500 + 2 * i]!, 31);
    expect(() => new PdqMultiIndex(0)).toThrow(AssertionError);
  });
});

describe("removal", () => {
  test("a removed hash stops matching at once; the others still match", () => {
    const stored = Array.from({ length: 1000 }, () => randomBytes(32));
    const { multi } = bothOver(stored, stored.map((_, i) => 10 * i));
    const near = flipBits(stored[500]!, randomPositions(20));
    expect(multi.searchByProbing(near, 31)).toEqual([{ logIndex: 5000, distance: 20 }]);
    expect(multi.size).toBe(1000);
    expect(multi.remove(5000)).toBe(true);
    expect(multi.searchByProbing(near, 31)).toEqual([]);
    expect(multi.searchByScanning(near, 31)).toEqual([]);
    expect(multi.searchByProbing(stored[500]!, 0)).toEqual([]);
    expect(multi.size).toBe(999);
    expect(multi.remove(5000)).toBe(false);
    expect(multi.remove(5001)).toBe(false);
    expect(multi.searchByProbing(stored[501]!, 31)).toEqual([{ logIndex: 5010, distance: 0 }]);
  });

  test("removing most entries drops them from the index (compaction), and the rest, and later adds, still match", () => {
    const stored = Array.from({ length: 2000 }, () => randomBytes(32));
    const { multi, scan } = bothOver(stored);
    for (let i = 0; i < 2000; i += 1) if (i % 10 !== 0) expect(multi.remove(i) && scan.remove(i)).toBe(true);
    expect(multi.size).toBe(200);
    for (let i = 0; i < 2000; i += 7) expectSameResults(multi, scan, stored[i]!, 31);
    const later = randomBytes(32);
    multi.add(later, 5000);
    scan.add(later, 5000);
    expectSameResults(multi, scan, later, 31);
    expect(multi.remove(10)).toBe(true);
    expect(multi.searchByProbing(stored[10]!, 0)).toEqual([]);
  });
});

describe("adds, removals and searches in any order", () => {
  type Operation = { kind: "add"; near: number; bits: number[] } | { kind: "remove"; pick: number } | { kind: "search"; pick: number; bits: number[]; distanceMax: number };
  const bits = fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: 70 });
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), near: fc.nat(), bits }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("search" as const), pick: fc.nat(), bits, distanceMax: fc.integer({ min: 0, max: 70 }) }) },
  );

  test("agree with a scan after every step of a few thousand", () => {
    fc.assert(
      fc.property(fc.array(operation, { minLength: 1500, maxLength: 3000 }), (operations) => {
        const multi = new PdqMultiIndex();
        const scan = new PdqScanIndex();
        const added: Buffer[] = [];
        for (const step of operations) {
          if (step.kind === "add") {
            // Half the adds are near-duplicates of earlier ones, so searches find something.
            const value = added.length > 0 && step.near % 2 === 0 ? flipBits(added[step.near % added.length]!, step.bits) : randomBytes(32);
            multi.add(value, added.length);
            scan.add(value, added.length);
            added.push(value);
          } else if (step.kind === "remove") {
            const logIndex = added.length === 0 ? 0 : step.pick % (added.length + 5);
            expect(multi.remove(logIndex)).toBe(scan.remove(logIndex));
          } else if (added.length > 0) {
            expectSameResults(multi, scan, flipBits(added[step.pick % added.length]!, step.bits), step.distanceMax);
          }
          expect(multi.size).toBe(scan.size);
        }
      }),
      { numRuns: 3 },
    );
  });

  test("adds in runs of 300 with a search after each run build, merge and search several levels", () => {
    const stored: Buffer[] = [];
    const { multi, scan } = bothOver([]);
    for (let run = 0; run < 40; run++) {
      for (let i = 0; i < 300; i++) {
        const value = stored.length > 0 && i % 3 === 0 ? flipBits(stored[Math.floor(Math.random() * stored.length)]!, randomPositions(i % 40)) : randomBytes(32);
        multi.add(value, stored.length);
        scan.add(value, stored.length);
        stored.push(value);
      }
      expectSameResults(multi, scan, stored[Math.floor(Math.random() * stored.length)]!, 31);
      expectSameResults(multi, scan, flipBits(stored[stored.length - 1]!, randomPositions(30)), 63);
    }
  });

  test("log indexes far apart (a log mostly of other signal types) and close together are kept exactly, through removals", () => {
    const stored = Array.from({ length: 6000 }, () => randomBytes(32));
    // Blocks of 4,096 entries keep 16-bit offsets while their log indexes span under 65,536.
    const logIndexes = stored.map((_, i) => (i < 5000 ? 3 * i : 15_000 + 70_000 * (i - 5000)));
    const { multi, scan } = bothOver(stored, logIndexes);
    for (let i = 0; i < 6000; i += 97) expectSameResults(multi, scan, stored[i]!, 31);
    for (let i = 0; i < 6000; i += 2) expect(multi.remove(logIndexes[i]!) && scan.remove(logIndexes[i]!)).toBe(true);
    for (let i = 1; i < 6000; i += 97) expectSameResults(multi, scan, stored[i]!, 31);
    expect(multi.searchByProbing(stored[5999]!, 0)).toEqual([{ logIndex: logIndexes[5999], distance: 0 }]);
  });

  test("a build goes a bounded slice at a time; searches agree with a scan in the middle of it, with adds and removals", () => {
    const stored: Buffer[] = Array.from({ length: 20_000 }, () => randomBytes(32));
    const { multi, scan } = bothOver(stored);
    // 3,000 more: one build merging them into the level of 20,000, of 16 entry-words per entry.
    addMore(multi, scan, stored, 3000);
    expect(multi.indexSlice(1)).toBe(true);
    const total = multi.indexingWordsLeft;
    expect(total).toBe(16 * 23_000 - 1);
    let slices = 0;
    for (let left = total; left > 0; left = multi.indexingWordsLeft) {
      multi.indexSlice(10_000);
      expect(left - multi.indexingWordsLeft).toBeLessThanOrEqual(10_000);
      if (slices % 4 === 0) {
        // Mid-build: an entry of the level being rebuilt and a new one are removed, one more is added.
        const value = randomBytes(32);
        multi.add(value, stored.length);
        scan.add(value, stored.length);
        stored.push(value);
        for (const logIndex of [slices * 3, 20_000 + slices]) expect(multi.remove(logIndex)).toBe(scan.remove(logIndex));
        expectSameResults(multi, scan, stored[20_000 + slices]!, 31);
        expectSameResults(multi, scan, flipBits(stored[slices]!, randomPositions(25)), 31);
      }
      slices++;
    }
    // Slices of 10,000 and the comparisons' own of 4,000: the build spanned dozens of them.
    expect(slices).toBeGreaterThan(20);
    // The build is done; the entries added meanwhile are fewer than PENDING_SCAN_MAX: nothing left.
    expect(multi.indexSlice()).toBe(false);
    expect(multi.indexingWordsLeft).toBe(0);
    for (let i = 0; i < stored.length; i += 499) expectSameResults(multi, scan, stored[i]!, 31);
  });

  test("retractions past an eighth of the list in the middle of a build: all is renumbered and built anew, in slices, while searches use the levels there are and agree with a scan", () => {
    const stored: Buffer[] = Array.from({ length: 8000 }, () => randomBytes(32));
    const { multi, scan } = bothOver(stored);
    addMore(multi, scan, stored, 2000);
    expect(multi.indexSlice(5000)).toBe(true);
    expect(multi.indexingWordsLeft).toBeGreaterThan(0);
    // 1,300 of 10,000 removed, mid-build: a compaction starts. Until its level is built the level of
    // 8,000 serves searches (had it been dropped, every search would scan the whole list meanwhile).
    for (let logIndex = 0; logIndex < 2600; logIndex += 2) expect(multi.remove(logIndex) && scan.remove(logIndex)).toBe(true);
    let slices = 0;
    for (; multi.indexingWordsLeft > 0 || slices === 0; slices++) {
      expect(slices).toBeLessThan(1000);
      expect(multi.levelSizes).toEqual([8000]);
      if (slices % 5 === 0) expectSameResults(multi, scan, stored[(slices * 37) % stored.length]!, 31);
      if (slices % 7 === 3) {
        // Meanwhile: an entry the copy has taken and one it has not are removed, one more is added.
        for (const logIndex of [2601 + slices, 9999 - slices]) expect(multi.remove(logIndex)).toBe(scan.remove(logIndex));
        const value = randomBytes(32);
        multi.add(value, stored.length);
        scan.add(value, stored.length);
        stored.push(value);
      }
      multi.indexSlice(5000);
    }
    expect(slices).toBeGreaterThan(10);
    expect(multi.levelSizes).toHaveLength(1);
    // The 1,300 removed before the copy are gone (those removed after it was taken stay, marked).
    expect(multi.levelSizes[0]! + multi.unindexedCount).toBeLessThan(multi.size + 20);
    for (let i = 1; i < stored.length; i += 97) expectSameResults(multi, scan, stored[i]!, 31);
    for (let i = stored.length - 20; i < stored.length; i++) expectSameResults(multi, scan, stored[i]!, 0);
  });

  test("log indexes must increase: adding out of order is a programmer error", () => {
    const multi = new PdqMultiIndex();
    multi.add(randomBytes(32), 7);
    expect(() => multi.add(randomBytes(32), 7)).toThrow(AssertionError);
    expect(() => multi.add(randomBytes(32), 3)).toThrow(AssertionError);
    expect(() => multi.search(randomBytes(31), 31)).toThrow(AssertionError);
    expect(() => multi.searchByProbing(randomBytes(32), 64)).toThrow(AssertionError);
  });
});
