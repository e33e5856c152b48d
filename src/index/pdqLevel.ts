import { assert } from "../assert";
import { BITS_SET_16 } from "./bitsSet";
import { ENTRIES_PER_PAGE, ENTRY_PAGE_BITS, type PdqEntries, WORDS_PER_HASH } from "./pdqEntries";
import { LevelMemory, SCAN_RECORDS_MAX } from "./levelMemory";
import { flipMasks, HALF_BITS, HALVES, type PdqProbePlan, WORDS } from "./pdqProbePlan";
import type { GrowableUint32Array } from "../table";

/**
 * A level is in a WebAssembly memory (LevelMemory), at most 4 GiB: about 70 bytes per entry (a
 * posting in each of the 16 tables: two 16-bit units, its share of a unary code and of a line), so
 * at most this many entries (a node holds far fewer; PdqMultiIndex makes no larger level).
 */
export const LEVEL_ENTRIES_MAX = 50_000_000;

/** A bucket's line: 64 bytes, one cache line, in 16-bit units. */
const LINE_UNITS = 32;
/** The line starts with its region's start and its count of postings (u32 each)... */
const LINE_HEADER_UNITS = 4;
/** ...and holds the partners of its first postings; a bucket with more keeps the others in its region. */
const LINE_PARTNERS = LINE_UNITS - LINE_HEADER_UNITS;
/**
 * Levels get as many key bits as give about this many postings a bucket, so that most buckets fit
 * in their line; at most 16 key bits, so past about a million entries buckets hold more (about 150 at 10 M).
 */
const POSTINGS_PER_BUCKET = 16;

/**
 * The working memory of a search in a level, reused from search to search: the buckets it visits,
 * listed before any is read.
 */
export class LevelSearchSpace {
  static readonly BUCKETS_MAX = SCAN_RECORDS_MAX / 2;
  /** Each bucket's line, in units from the memory's start. */
  readonly line = new Uint32Array(LevelSearchSpace.BUCKETS_MAX);
  /** Each bucket's region start and count, read from its line. */
  readonly start = new Uint32Array(LevelSearchSpace.BUCKETS_MAX);
  readonly count = new Uint32Array(LevelSearchSpace.BUCKETS_MAX);
  /** The query's partner half for each bucket, and how far a posting's partner may be from it. */
  readonly partner = new Uint16Array(LevelSearchSpace.BUCKETS_MAX);
  readonly partnerRadius = new Int8Array(LevelSearchSpace.BUCKETS_MAX);
  /** Folds the prefetching reads, so the compiler cannot drop them as unused. */
  touched = 0;
}

/**
 * One immutable layer of the multi-index: the entries [from, to) of a PdqEntries grouped by each of
 * the 16 halves of their hash (the multi-index's 16 tables). An entry's bucket in a table is the
 * half's top keyBits bits: about POSTINGS_PER_BUCKET entries a bucket, at most 16 bits (see there).
 *
 * A random read costs far more than a sequential one, so a bucket is laid out for one: its line, a
 * 64-byte cache line, holds its region's start, its count and the partner halves of its first 28
 * postings (the other half of the same 32-bit word of the entry's hash), which is all a search needs
 * from a bucket of up to 28 entries (most of them, up to about a million entries) unless one passes the
 * partner test. The partner lets a search reject almost every entry without reading its hash, a
 * random read into hundreds of megabytes. The region holds the partners past the 28th, then the low
 * 16 bits of every entry's id relative to `from`, then the high parts of the ids; a search reads it
 * for the few postings that pass, and front to back for the buckets past 28.
 *
 * The high parts are coded Elias-Fano style: entries are in id order, so their high parts rise, and
 * the bucket writes them in unary (per entry, one 0 per step up, then a 1). With 2^16 buckets over n
 * entries a bucket holds about n / 2^16 entries with high parts up to about n / 2^16: about 2 bits
 * an entry, so 4.3 bytes a posting instead of 6 with a plain 32-bit id.
 *
 * The memory is table by table: a table's lines, in bucket order, then its regions, in bucket order.
 */
export class PdqLevel {
  private readonly units: Uint16Array;
  private readonly words: Uint32Array;

  /** Made by PdqLevelBuild. */
  constructor(
    readonly from: number,
    readonly to: number,
    readonly keyBits: number,
    /** Where each table starts, in units: table `half`, bucket b has its line at tableStart[half] + 32b. */
    private readonly tableStart: Uint32Array,
    private readonly memory: LevelMemory,
  ) {
    this.units = memory.units;
    this.words = memory.words;
  }

  /** Bytes of typed arrays and WebAssembly memory held, for the benchmarks' accounting. */
  get byteLength(): number {
    return this.tableStart.byteLength + this.memory.byteLength;
  }

  /**
   * Pushes onto `found` the ids of the entries that have, in some probed half, a value within the
   * plan's half radius of the query's (judged by the top keyBits bits: with fewer than 16, a bound
   * that lets more through) and whose whole 32-bit word is within the word radius: bucket distance
   * plus partner distance. An entry may be pushed once per half that finds it.
   *
   * Each bucket costs a random read of its line: so the buckets are listed first, then their lines
   * read, then the regions of those past 28 postings touched, each in a loop of reads that do not
   * depend on one another, which the memory system serves in parallel; only then are the partners
   * scanned (LevelMemory.scan, eight at a time). Read as they come, the misses would be waited for
   * one at a time.
   */
  collect(query: Uint32Array, plan: PdqProbePlan, space: LevelSearchSpace, found: GrowableUint32Array): void {
    const buckets = this.listBuckets(query, plan, space);
    const { units, words, memory } = this;
    const { line, start, count, partner, partnerRadius } = space;
    for (let i = 0; i < buckets; i++) {
      start[i] = words[line[i]! >>> 1]!;
      count[i] = words[(line[i]! >>> 1) + 1]!;
    }
    let touched = 0;
    for (let i = 0; i < buckets; i++) if (count[i]! > LINE_PARTNERS) touched |= units[start[i]!]!;
    space.touched = touched;
    // Two records a bucket: 2i scans the line's partners, 2i + 1 those in the region.
    for (let i = 0; i < buckets; i++) {
      const inRegion = regionPartners(count[i]!);
      memory.setRecord(2 * i, line[i]! + LINE_HEADER_UNITS, line[i]! + LINE_HEADER_UNITS + count[i]! - inRegion, partner[i]!, partnerRadius[i]!);
      memory.setRecord(2 * i + 1, start[i]!, start[i]! + inRegion, partner[i]!, partnerRadius[i]!);
    }
    for (let next = 0; next < 2 * buckets; ) {
      next = memory.scan(next, 2 * buckets);
      for (let k = 0; k < memory.passingCount; k++) {
        const record = memory.passingRecord(k);
        const i = record >>> 1;
        const position = memory.passingPosition(k);
        const rank = (record & 1) === 0 ? position - line[i]! - LINE_HEADER_UNITS : LINE_PARTNERS + position - start[i]!;
        found.push(this.from + this.relativeId(start[i]!, count[i]!, rank));
      }
    }
  }

  /** Lists in `space` the buckets the plan visits, with the partner test of each; returns how many. */
  private listBuckets(query: Uint32Array, plan: PdqProbePlan, space: LevelSearchSpace): number {
    const { masks, weightStarts } = flipMasks(this.keyBits);
    const shift = HALF_BITS - this.keyBits;
    const { line, partner, partnerRadius } = space;
    let count = 0;
    for (let half = 0; half < HALVES; half++) {
      const halfRadius = plan.halfRadius[half]!;
      if (halfRadius < 0) continue;
      const word = query[half >>> 1]!;
      const keyIsHigh = (half & 1) === 0;
      const prefix = (keyIsHigh ? word >>> 16 : word & 0xffff) >>> shift;
      const queryPartner = keyIsHigh ? word & 0xffff : word >>> 16;
      const wordRadius = plan.wordRadius[half >>> 1]!;
      const lines = this.tableStart[half]!;
      for (let flips = 0; flips <= halfRadius; flips++) {
        for (let m = weightStarts[flips]!; m < weightStarts[flips + 1]!; m++) {
          line[count] = lines + LINE_UNITS * (prefix ^ masks[m]!);
          partner[count] = queryPartner;
          partnerRadius[count] = wordRadius - flips;
          count++;
        }
      }
    }
    return count;
  }

  /** The relative id of the posting of rank `rank` in the bucket whose region starts at `regionStart` and which holds `count` postings. */
  private relativeId(regionStart: number, count: number, rank: number): number {
    const units = this.units;
    const idLows = regionStart + regionPartners(count);
    // The high part is the number of 0s before the (rank + 1)-th 1 of the unary code.
    const codeStart = idLows + count;
    let onesToSkip = rank;
    let unit = codeStart;
    let bits = units[unit]!;
    for (let ones = BITS_SET_16[bits]!; ones <= onesToSkip; ones = BITS_SET_16[bits]!) {
      onesToSkip -= ones;
      bits = units[++unit]!;
    }
    for (; onesToSkip > 0; onesToSkip--) bits &= bits - 1;
    const bit = (unit - codeStart) * 16 + BITS_SET_16[(bits & -bits) - 1]!;
    return (bit - rank) * 65536 + units[idLows + rank]!;
  }
}

/** The partners a bucket of `count` postings keeps in its region: those past its line's. */
function regionPartners(count: number): number {
  return count > LINE_PARTNERS ? count - LINE_PARTNERS : 0;
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
  /** In the placing pass: the memory of this sweep's tables is faulted in up to here (see touchPages). */
  private touchedTo = 0;
  private built: PdqLevel | undefined;

  constructor(
    private readonly entries: PdqEntries,
    readonly from: number,
    readonly to: number,
  ) {
    assert(from >= 0 && from <= to && to <= entries.count, `entries ${from}..${to} outside 0..${entries.count}`);
    assert(to - from <= LEVEL_ENTRIES_MAX, `a level holds at most ${LEVEL_ENTRIES_MAX} entries, got ${to - from}`);
    this.builder = new LevelBuilder(Math.min(HALF_BITS, Math.max(1, Math.ceil(Math.log2(Math.max(2, (to - from) / POSTINGS_PER_BUCKET))))));
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
      if (this.pass === LevelBuilder.PLACE && this.touchedTo < this.builder.unitsOfWord(this.word).end) {
        budget = this.touchPages(budget);
        if (this.touchedTo === this.builder.unitsOfWord(this.word).end) this.builder.writeLineHeaders(this.word);
        continue;
      }
      const word = this.word;
      const end = Math.min(to, this.next + budget);
      // Word by word: each sweep writes into two tables only, an eighth of the level,
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
   * The memory is allocated zeroed and unmapped: the first write into each page faults it in.
   * A placing sweep writes at random all over its two tables, so its first slice would
   * take nearly all their faults (hundreds of milliseconds at 10 M); instead the sweep's pages are
   * written once each beforehand, in order, a slice's budget at a time.
   */
  private touchPages(budget: number): number {
    const units = this.builder.memory.units;
    const stop = Math.min(this.builder.unitsOfWord(this.word).end, this.touchedTo + Math.max(1, Math.floor(budget / WORDS_PER_PAGE_TOUCH)) * UNITS_PER_PAGE);
    let pages = 0;
    // Writing back the value read changes nothing, and a write is what maps the page.
    for (let unit = this.touchedTo; unit < stop; unit += UNITS_PER_PAGE, pages++) units[unit] = units[unit]!;
    // Steps from an unaligned start can pass over the last page's first units: its last unit is in it.
    if (stop > this.touchedTo) units[stop - 1] = units[stop - 1]!;
    this.touchedTo = stop;
    return budget - pages * WORDS_PER_PAGE_TOUCH;
  }

  private finishSweep(): void {
    this.next = this.from;
    if (++this.word === WORDS) {
      this.word = 0;
      if (this.pass === LevelBuilder.PLACE) {
        this.built = new PdqLevel(this.from, this.to, this.builder.keyBits, this.builder.tableStart, this.builder.memory);
        return;
      }
      this.pass = LevelBuilder.PLACE;
      this.builder.startPass(LevelBuilder.PLACE);
    }
    if (this.pass === LevelBuilder.PLACE) this.touchedTo = this.builder.unitsOfWord(this.word).start;
  }
}

/** 4 KiB pages of 16-bit units. */
const UNITS_PER_PAGE = 2048;
/** Faulting a page in costs about as much as indexing this many entry-words (measured at 10 M entries). */
const WORDS_PER_PAGE_TOUCH = 128;

/**
 * Builds a level's lines and regions in two passes over its entries, each in id order: the first
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
   * Per bucket (table half, bucket b at half * 2^keyBits + b): [region start, count]; in the first
   * pass [last high part, count]. Built in place, so that the build holds no second copy.
   */
  private readonly directory: Uint32Array;
  /** Where each table starts in the memory, in units; the last is the end of the tables. */
  readonly tableStart = new Uint32Array(HALVES + 1);
  /** Per bucket, in the second pass: the rank of its next entry. */
  private ranks = new Uint32Array(0);
  private placing = false;
  private units: Uint16Array = new Uint16Array(0);
  private placingMemory: LevelMemory | undefined;

  constructor(keyBits: number) {
    this.keyBits = keyBits;
    this.buckets = 1 << keyBits;
    this.shift = HALF_BITS - keyBits;
    this.directory = new Uint32Array(2 * HALVES * this.buckets);
  }

  /** The placing pass lays the tables out, sized by the counting pass. */
  startPass(pass: number): void {
    if (pass === LevelBuilder.COUNT) return;
    const { directory, buckets, tableStart } = this;
    let size = 0;
    for (let half = 0; half < HALVES; half++) {
      tableStart[half] = size;
      size += LINE_UNITS * buckets;
      for (let bucket = half * buckets; bucket < (half + 1) * buckets; bucket++) {
        const lastHigh = directory[2 * bucket]!;
        const count = directory[2 * bucket + 1]!;
        directory[2 * bucket] = size;
        size += regionPartners(count) + count + ((count + lastHigh + 15) >>> 4);
      }
      // The next table's lines start on a cache line.
      size = Math.ceil(size / LINE_UNITS) * LINE_UNITS;
    }
    tableStart[HALVES] = size;
    this.placingMemory = new LevelMemory(size);
    this.units = this.placingMemory.units;
    this.ranks = new Uint32Array(HALVES * buckets);
    this.placing = true;
  }

  /** The level's memory: made by the placing pass, once its size is known. */
  get memory(): LevelMemory {
    assert(this.placingMemory !== undefined, "a level's memory is made by its placing pass");
    return this.placingMemory;
  }

  /**
   * In the placing pass, once word `word`'s tables are faulted in (a few milliseconds at 16 key
   * bits, where all the lines at once would hold the thread for tens): their lines' region starts and counts.
   */
  writeLineHeaders(word: number): void {
    const { directory, buckets } = this;
    const words = this.memory.words;
    for (let bucket = 2 * word * buckets; bucket < (2 * word + 2) * buckets; bucket++) {
      const line = this.lineOf(bucket);
      words[line >>> 1] = directory[2 * bucket]!;
      words[(line >>> 1) + 1] = directory[2 * bucket + 1]!;
    }
  }

  /** In the placing pass: where word `word`'s two tables (halves 2w and 2w + 1) lie, one range. */
  unitsOfWord(word: number): { start: number; end: number } {
    return { start: this.tableStart[2 * word]!, end: this.tableStart[2 * word + 2]! };
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

  private lineOf(bucket: number): number {
    return this.tableStart[bucket >>> this.keyBits]! + LINE_UNITS * (bucket & (this.buckets - 1));
  }

  private place(bucket: number, partner: number, relative: number): void {
    const start = this.directory[2 * bucket]!;
    const count = this.directory[2 * bucket + 1]!;
    const rank = this.ranks[bucket]!++;
    const idLows = start + regionPartners(count);
    if (rank < LINE_PARTNERS) this.units[this.lineOf(bucket) + LINE_HEADER_UNITS + rank] = partner;
    else this.units[start + rank - LINE_PARTNERS] = partner;
    this.units[idLows + rank] = relative & 0xffff;
    const bit = rank + (relative >>> 16);
    this.units[idLows + count + (bit >>> 4)]! |= 1 << (bit & 15);
  }
}
