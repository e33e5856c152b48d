import { assert } from "../assert";
import { BITS_SET_16 } from "./bitsSet";
import { ENTRIES_PER_PAGE, ENTRY_PAGE_BITS, type PdqEntries, WORDS_PER_HASH } from "./pdqEntries";
import { LevelMemory, SCAN_RECORDS_MAX } from "./levelMemory";
import { flipMasks, HALF_BITS, HALVES, type PdqProbePlan, WORDS } from "./pdqProbePlan";
import { GrowableUint32Array } from "../table";

/**
 * A level's regions are in a WebAssembly memory (LevelMemory), at most 4 GiB: about 70 bytes per
 * entry (16 postings of two 16-bit units, and their unary codes), so at most this many entries (a
 * node holds far fewer).
 */
export const LEVEL_ENTRIES_MAX = 50_000_000;

/**
 * The working memory of a search in a level, reused from search to search: the buckets it visits,
 * listed before any is read.
 */
export class LevelSearchSpace {
  static readonly BUCKETS_MAX = SCAN_RECORDS_MAX;
  readonly bucket = new Uint32Array(LevelSearchSpace.BUCKETS_MAX);
  /** The partners of each bucket: from start to end, where its id lows begin. */
  readonly start = new Uint32Array(LevelSearchSpace.BUCKETS_MAX);
  readonly end = new Uint32Array(LevelSearchSpace.BUCKETS_MAX);
  readonly partner = new Uint16Array(LevelSearchSpace.BUCKETS_MAX);
  readonly partnerRadius = new Int8Array(LevelSearchSpace.BUCKETS_MAX);
  /** Folds the prefetching reads, so the compiler cannot drop them as unused. */
  touched = 0;
}

/**
 * One immutable layer of the multi-index: the entries [from, to) of a PdqEntries grouped by each of
 * the 16 halves of their hash (the multi-index's 16 tables). An entry's bucket in a table is the
 * half's top keyBits bits: 16 for large levels, fewer for small ones, so that a small level has a
 * small directory.
 *
 * A bucket is one region of 16-bit units, everything a search needs from it in one place (a random
 * read costs far more than a sequential one). For each entry it holds the partner half (the other
 * half of the same 32-bit word of the hash) and the low 16 bits of its id relative to `from`: first
 * all the partners, then all the id lows, then the high parts of the ids. The partner lets a search
 * reject almost every entry without reading its hash, a random read into hundreds of megabytes; a
 * search reads the partners only, front to back, and the rest for the few that pass.
 *
 * The high parts are coded Elias-Fano style: entries are in id order, so their high parts rise, and
 * the bucket writes them in unary (per entry, one 0 per step up, then a 1). With 2^16 buckets over n
 * entries a bucket holds about n / 2^16 entries with high parts up to about n / 2^16: about 2 bits
 * an entry, so 4.3 bytes a posting instead of 6 with a plain 32-bit id.
 */
export class PdqLevel {
  private readonly regions: Uint16Array;

  /** Made by PdqLevelBuild. */
  constructor(
    readonly from: number,
    readonly to: number,
    readonly keyBits: number,
    /**
     * Table `half`, bucket b is entry i = half * 2^keyBits + b: its region starts at directory[2i]
     * and holds directory[2i + 1] postings. Start and count side by side: one read gives both.
     */
    private readonly directory: Uint32Array,
    private readonly memory: LevelMemory,
  ) {
    this.regions = memory.regions;
  }

  /** Bytes of typed arrays and WebAssembly memory held, for the benchmarks' accounting. */
  get byteLength(): number {
    return this.directory.byteLength + this.memory.byteLength;
  }

  /**
   * Pushes onto `found` the ids of the entries that have, in some probed half, a value within the
   * plan's half radius of the query's (judged by the top keyBits bits: with fewer than 16, a bound
   * that lets more through) and whose whole 32-bit word is within the word radius: bucket distance
   * plus partner distance. An entry may be pushed once per half that finds it.
   *
   * Each bucket costs a random read of the directory and one of its region, far apart: so the
   * buckets are listed first, then their directory entries read, then their first and last
   * partners, each in a loop of reads that do not depend on one another, which the memory system
   * serves in parallel; only then are the partners scanned (LevelMemory.scan, eight at a time). Read
   * as they come, the misses would be waited for one at a time.
   */
  collect(query: Uint32Array, plan: PdqProbePlan, space: LevelSearchSpace, found: GrowableUint32Array): void {
    const count = this.listBuckets(query, plan, space);
    const directory = this.directory;
    const regions = this.regions;
    const { bucket, start, end, partner, partnerRadius } = space;
    for (let range = 0; range < count; range++) {
      start[range] = directory[2 * bucket[range]!]!;
      end[range] = start[range]! + directory[2 * bucket[range]! + 1]!;
    }
    let touched = 0;
    for (let range = 0; range < count; range++) {
      if (start[range]! < end[range]!) touched |= regions[start[range]!]! | regions[end[range]! - 1]!;
    }
    space.touched = touched;
    const memory = this.memory;
    for (let range = 0; range < count; range++) memory.setRecord(range, start[range]!, end[range]!, partner[range]!, partnerRadius[range]!);
    for (let next = 0; next < count; ) {
      next = memory.scan(next, count);
      for (let i = 0; i < memory.passingCount; i++) {
        const range = memory.passingRecord(i);
        found.push(this.from + this.relativeId(start[range]!, end[range]! - start[range]!, memory.passingPosition(i)));
      }
    }
  }

  /** Lists in `space` the buckets the plan visits, with the partner test of each; returns how many. */
  private listBuckets(query: Uint32Array, plan: PdqProbePlan, space: LevelSearchSpace): number {
    const { masks, weightStarts } = flipMasks(this.keyBits);
    const buckets = 1 << this.keyBits;
    const shift = HALF_BITS - this.keyBits;
    const { bucket, partner, partnerRadius } = space;
    let count = 0;
    for (let half = 0; half < HALVES; half++) {
      const halfRadius = plan.halfRadius[half]!;
      if (halfRadius < 0) continue;
      const word = query[half >>> 1]!;
      const keyIsHigh = (half & 1) === 0;
      const prefix = (keyIsHigh ? word >>> 16 : word & 0xffff) >>> shift;
      const queryPartner = keyIsHigh ? word & 0xffff : word >>> 16;
      const wordRadius = plan.wordRadius[half >>> 1]!;
      for (let flips = 0; flips <= halfRadius; flips++) {
        for (let m = weightStarts[flips]!; m < weightStarts[flips + 1]!; m++) {
          bucket[count] = half * buckets + (prefix ^ masks[m]!);
          partner[count] = queryPartner;
          partnerRadius[count] = wordRadius - flips;
          count++;
        }
      }
    }
    return count;
  }

  /** The relative id of the entry whose partner is at `position` in the region at `regionStart` holding `count` entries. */
  private relativeId(regionStart: number, count: number, position: number): number {
    const regions = this.regions;
    const rank = position - regionStart;
    // The high part is the number of 0s before the (rank + 1)-th 1 of the unary code.
    const codeStart = regionStart + 2 * count;
    let onesToSkip = rank;
    let unit = codeStart;
    let bits = regions[unit]!;
    for (let ones = BITS_SET_16[bits]!; ones <= onesToSkip; ones = BITS_SET_16[bits]!) {
      onesToSkip -= ones;
      bits = regions[++unit]!;
    }
    for (; onesToSkip > 0; onesToSkip--) bits &= bits - 1;
    const bit = (unit - codeStart) * 16 + BITS_SET_16[(bits & -bits) - 1]!;
    return (bit - rank) * 65536 + regions[regionStart + count + rank]!;
  }
}

/**
 * A level being built, a slice at a time, so that indexing millions of entries (seconds of work)
 * never holds the event loop for long: the node answers matches and takes part in consensus in
 * between. Every entry of [from, to) is indexed, removed ones too (searches skip those when they
 * check candidates), so an entry removed halfway cannot make the two passes disagree.
 */
export class PdqLevelBuild {
  private readonly builder: LevelBuilder;
  private pass = LevelBuilder.COUNT;
  private word = 0;
  private next: number;
  /** In the placing pass: the regions of this sweep's tables are faulted in up to here (see touchPages). */
  private touchedTo = 0;
  private built: PdqLevel | undefined;

  constructor(
    private readonly entries: PdqEntries,
    readonly from: number,
    readonly to: number,
  ) {
    assert(from >= 0 && from <= to && to <= entries.count, `entries ${from}..${to} outside 0..${entries.count}`);
    assert(to - from <= LEVEL_ENTRIES_MAX, `a level holds at most ${LEVEL_ENTRIES_MAX} entries, got ${to - from}`);
    // As many key bits as give about one entry a bucket, at most 16.
    this.builder = new LevelBuilder(Math.min(HALF_BITS, Math.max(1, Math.ceil(Math.log2(Math.max(2, to - from))))));
    this.builder.startPass(LevelBuilder.COUNT);
    this.next = from;
  }

  /** Entry-words (16 table insertions in 2 passes per entry, 2 per word and pass) the build still has to do. */
  get wordsLeft(): number {
    const sweepsLeft = (LevelBuilder.PLACE - this.pass) * WORDS + (WORDS - this.word);
    return this.built !== undefined ? 0 : sweepsLeft * (this.to - this.from) - (this.next - this.from);
  }

  /** Does at most `wordsMax` entry-words of the build; returns the level if that completed it. */
  advance(wordsMax: number): PdqLevel | undefined {
    const { builder, entries, from, to } = this;
    let budget = wordsMax;
    while (this.built === undefined && budget > 0) {
      if (this.pass === LevelBuilder.PLACE && this.touchedTo < this.builder.regionsOfWord(this.word).end) {
        budget = this.touchPages(budget);
        continue;
      }
      const word = this.word;
      const end = Math.min(to, this.next + budget);
      // Word by word: each sweep writes into the regions of two tables only, an eighth of the level,
      // where entry by entry the writes would scatter over all of it (cache and TLB misses).
      for (let id = this.next; id < end; id++) {
        builder.addWord(word, entries.wordPages[id >>> ENTRY_PAGE_BITS]![(id & (ENTRIES_PER_PAGE - 1)) * WORDS_PER_HASH + word]!, id - from);
      }
      budget -= end - this.next;
      this.next = end;
      if (end === to) this.finishSweep();
    }
    return this.built;
  }

  /**
   * The regions are allocated zeroed and unmapped: the first write into each page faults it in.
   * A placing sweep writes at random all over its two tables' regions, so its first slice would
   * take nearly all their faults (hundreds of milliseconds at 10 M); instead the sweep's pages are
   * written once each beforehand, in order, a slice's budget at a time.
   */
  private touchPages(budget: number): number {
    const regions = this.builder.regions;
    const stop = Math.min(this.builder.regionsOfWord(this.word).end, this.touchedTo + Math.max(1, Math.floor(budget / WORDS_PER_PAGE_TOUCH)) * UNITS_PER_PAGE);
    let pages = 0;
    // Writing back the value read changes nothing, and a write is what maps the page.
    for (let unit = this.touchedTo; unit < stop; unit += UNITS_PER_PAGE, pages++) regions[unit] = regions[unit]!;
    // Steps from an unaligned start can pass over the last page's first units: its last unit is in it.
    if (stop > this.touchedTo) regions[stop - 1] = regions[stop - 1]!;
    this.touchedTo = stop;
    return budget - pages * WORDS_PER_PAGE_TOUCH;
  }

  private finishSweep(): void {
    this.next = this.from;
    if (++this.word === WORDS) {
      this.word = 0;
      if (this.pass === LevelBuilder.PLACE) {
        this.built = new PdqLevel(this.from, this.to, this.builder.keyBits, this.builder.directory, this.builder.memory);
        return;
      }
      this.pass = LevelBuilder.PLACE;
      this.builder.startPass(LevelBuilder.PLACE);
    }
    if (this.pass === LevelBuilder.PLACE) this.touchedTo = this.builder.regionsOfWord(this.word).start;
  }
}

/** 4 KiB pages of 16-bit units. */
const UNITS_PER_PAGE = 2048;
/** Faulting a page in costs about as much as indexing this many entry-words (measured at 10 M entries). */
const WORDS_PER_PAGE_TOUCH = 128;

/**
 * Builds a level's directory and regions in two passes over its entries, each in id order: the first
 * counts the entries and the last high part of each bucket, which size the regions; the second
 * places the partners and id lows and sets the unary codes' 1s. The entry of rank r with high part
 * h has its 1 at bit r + h of the code (r 1s and h 0s come before it).
 */
class LevelBuilder {
  static readonly COUNT = 0;
  static readonly PLACE = 1;
  private readonly buckets: number;
  private readonly shift: number;
  readonly keyBits: number;
  /**
   * The level's directory, [start, count] per bucket; in the first pass [last high part, count].
   * Built in place, so that the build holds no second copy (at 10 million entries, memory is tight).
   */
  readonly directory: Uint32Array;
  /** Per bucket, in the second pass: the rank of its next entry. */
  private ranks = new Uint32Array(0);
  private placing = false;
  regions: Uint16Array = new Uint16Array(0);
  private placingMemory: LevelMemory | undefined;

  constructor(keyBits: number) {
    this.keyBits = keyBits;
    this.buckets = 1 << keyBits;
    this.shift = HALF_BITS - keyBits;
    this.directory = new Uint32Array(2 * HALVES * this.buckets);
  }

  startPass(pass: number): void {
    if (pass === LevelBuilder.COUNT) return;
    const directory = this.directory;
    let size = 0;
    for (let bucket = 0; bucket < HALVES * this.buckets; bucket++) {
      const lastHigh = directory[2 * bucket]!;
      const count = directory[2 * bucket + 1]!;
      directory[2 * bucket] = size;
      size += 2 * count + ((count + lastHigh + 15) >>> 4);
    }
    this.placingMemory = new LevelMemory(size);
    this.regions = this.placingMemory.regions;
    this.ranks = new Uint32Array(HALVES * this.buckets);
    this.placing = true;
  }

  /** The level's regions and the memory they are in: made by the placing pass, once their size is known. */
  get memory(): LevelMemory {
    assert(this.placingMemory !== undefined, "a level's memory is made by its placing pass");
    return this.placingMemory;
  }

  /** In the placing pass: where the regions of word `word`'s two tables (halves 2w and 2w + 1) lie, one range since regions are in bucket order. */
  regionsOfWord(word: number): { start: number; end: number } {
    const firstBucket = 2 * word * this.buckets;
    const end = word + 1 < WORDS ? this.directory[2 * (firstBucket + 2 * this.buckets)]! : this.regions.length;
    return { start: this.directory[2 * firstBucket]!, end };
  }

  /** Word `word` (0..7) of the hash of the entry `relative` ids after the level's first: an entry in each of its halves' tables. */
  addWord(word: number, value: number, relative: number): void {
    const highHalfBucket = 2 * word * this.buckets + (value >>> (16 + this.shift));
    const lowHalfBucket = (2 * word + 1) * this.buckets + ((value & 0xffff) >>> this.shift);
    if (this.placing) {
      this.place(highHalfBucket, value & 0xffff, relative);
      this.place(lowHalfBucket, value >>> 16, relative);
    } else {
      this.directory[2 * highHalfBucket] = this.directory[2 * lowHalfBucket] = relative >>> 16;
      this.directory[2 * highHalfBucket + 1]!++;
      this.directory[2 * lowHalfBucket + 1]!++;
    }
  }

  private place(bucket: number, partner: number, relative: number): void {
    const start = this.directory[2 * bucket]!;
    const count = this.directory[2 * bucket + 1]!;
    const rank = this.ranks[bucket]!++;
    this.regions[start + rank] = partner;
    this.regions[start + count + rank] = relative & 0xffff;
    const bit = rank + (relative >>> 16);
    this.regions[start + 2 * count + (bit >>> 4)]! |= 1 << (bit & 15);
  }
}
