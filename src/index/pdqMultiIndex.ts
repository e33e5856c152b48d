import { assert } from "../assert";
import { PDQ_HASH_BYTES } from "../signals";
import { bitsSet32 } from "./bitsSet";
import type { IndexHit } from "./matchIndex";
import { ENTRIES_PER_PAGE, ENTRY_PAGE_BITS, PdqEntries, readHashWords, WORDS_PER_HASH } from "./pdqEntries";
import { LEVEL_ENTRIES_MAX, LevelSearchSpace, type PdqLevel, PdqLevelBuild } from "./pdqLevel";
import { isEnumerable, type PdqProbePlan, pdqProbePlan } from "./pdqProbePlan";
import { type LevelShape, probingCostNs, scanningCostNs } from "./pdqSearchCost";
import { GrowableUint32Array } from "../table";

/**
 * Entries added since the last indexing are compared one by one while there are at most this many
 * (a few microseconds); beyond, the next indexing slice starts indexing them as a new level.
 */
export const PENDING_SCAN_MAX = 256;
/** A level at least 1/LEVEL_SIZE_RATIO the size of the one before it is merged into it: at most about log8(n / 256) levels. */
export const LEVEL_SIZE_RATIO = 8;
/** Once more than 1 entry in REMOVED_FRACTION_MAX is removed, a compaction drops them and renumbers the rest (see Compaction). */
export const REMOVED_FRACTION_MAX = 8;
/**
 * Indexing is done in slices of this many entry-words (an entry is 16 of them), a few milliseconds
 * each, which the index's owner runs between other work: a node's shell between matches and
 * consensus messages. A build of 10 million entries, seconds of work, never holds the event loop for long.
 */
export const INDEX_SLICE_WORDS = 32_768;

/** The build in progress: the level it makes replaces the levels from `replacesFrom` on. */
interface LevelInProgress {
  readonly build: PdqLevelBuild;
  readonly replacesFrom: number;
}

/**
 * A compaction under way: the live entries copied, renumbered, into new entries a slice at a time,
 * then their first level built, while searches go on using the current entries and levels (the
 * removed ones filtered out, as always); the new ones replace them once that level is built.
 */
interface Compaction {
  readonly entries: PdqEntries;
  /** Entries of the current ones before this id are copied (the removed skipped). */
  copiedTo: number;
  /** Started once the copy has caught up. */
  build: PdqLevelBuild | undefined;
}

/**
 * PDQ near-duplicate search by multi-index hashing (see pdqProbePlan.ts for the pigeonhole steps):
 * the entries are grouped by each of the 16 16-bit halves of their hash, a search visits the
 * buckets near the query's halves, rejects almost every posting by the other half of the same
 * 32-bit word carried in it, and checks the few candidates left by their full distance. Results are
 * exactly those of a scan (PdqScanIndex) at every distance; when the radius makes probing costlier
 * than a scan (d above 63, or small lists), it scans.
 *
 * Adding is cheap (the hash is stored, not indexed). Once more than PENDING_SCAN_MAX entries are not
 * indexed, they are indexed as a new immutable level, merged at once with the small levels before
 * it (a log-structured merge: each entry is re-indexed a few times over its life). Builds go a
 * slice at a time (indexSlice, INDEX_SLICE_WORDS), one build at a time, run by the index's owner,
 * never by a search; until a build completes, searches use the levels there are and scan the
 * entries not yet in one. Removing marks the entry, which stops matching at once; once removed
 * entries pass 1/REMOVED_FRACTION_MAX of the list, the rest are copied, renumbered, and indexed
 * anew, a slice at a time, while searches go on using the levels there are.
 *
 * Why 16-bit halves with their partner: they are the C++ reference's chunks, and the 16 x 17 buckets
 * of d = 31 stay cheap to visit; but at 10 million random hashes those buckets hold 41,500 entries,
 * and checking each by its hash would be 41,500 random reads (about a millisecond here). The partner
 * test passes about 110 of them. Wider chunks cut the entries but multiply the buckets (32-bit chunks
 * at radius 3: 5,489 per chunk), each a random read too.
 *
 * Memory is flat arrays only (typed arrays, and each level's lines and regions in a WebAssembly
 * memory for the SIMD partner test, see LevelMemory): 34 bytes an entry (hash and log index) plus,
 * per half, about 4.3 bytes of postings and, below about a million entries, some 4 of bucket lines:
 * about 103 bytes an entry at 10 million (985 MiB, measured by scripts/bench-match.ts), 139 at 1 million.
 */
export class PdqMultiIndex {
  private entries = new PdqEntries();
  /** Levels from the oldest and largest, covering entries [0, indexedEnd) without gaps. */
  private levels: PdqLevel[] = [];
  private inProgress: LevelInProgress | undefined;
  private compaction: Compaction | undefined;
  private readonly queryWords = new Uint32Array(WORDS_PER_HASH);
  private readonly candidates = new GrowableUint32Array();
  private readonly levelSearchSpace = new LevelSearchSpace();
  /** By distance (an enumerable one, so up to 63): whether probing is cheaper, given the current levels. Cleared when they change. */
  private probingCheaper: boolean[] = [];

  /** `levelEntriesMax` caps a level (LEVEL_ENTRIES_MAX, its memory's limit); beyond, entries go in several. Tests pass a small one. */
  constructor(private readonly levelEntriesMax = LEVEL_ENTRIES_MAX) {
    assert(Number.isInteger(levelEntriesMax) && levelEntriesMax >= 1 && levelEntriesMax <= LEVEL_ENTRIES_MAX, `a level holds 1 to ${LEVEL_ENTRIES_MAX} entries, got ${levelEntriesMax}`);
  }

  /** Live (not removed) hashes. */
  get size(): number {
    return this.entries.liveCount;
  }

  /** Bytes of typed arrays and WebAssembly memory held, for the benchmarks' accounting. */
  get byteLength(): number {
    return this.levels.reduce((total, level) => total + level.byteLength, this.entries.byteLength + (this.compaction?.entries.byteLength ?? 0));
  }

  /** Requires log indexes to increase from call to call (they do: entries are added in log order). */
  add(value: Uint8Array, logIndex: number): void {
    this.entries.add(value, logIndex);
  }

  /** Removes the entry with `logIndex`; it no longer matches. Returns whether there was one. */
  remove(logIndex: number): boolean {
    // An entry a compaction has copied is removed from the copy too; one it has not is skipped.
    this.compaction?.entries.remove(logIndex);
    return this.entries.remove(logIndex);
  }

  /**
   * Every live hash within `distanceMax` of `query`, with its distance, in log order: by probing the
   * buckets, or by a scan when that is expected to cost less (distances above 63, small lists).
   */
  search(query: Uint8Array, distanceMax: number): IndexHit[] {
    const plan = this.startSearch(query, distanceMax);
    return this.finishSearch(isEnumerable(plan) && this.probingIsCheaper(plan, distanceMax) ? plan : undefined, distanceMax);
  }

  /** As search, always by probing the buckets (only entries added since the last indexing are scanned). Requires distanceMax <= 63. */
  searchByProbing(query: Uint8Array, distanceMax: number): IndexHit[] {
    const plan = this.startSearch(query, distanceMax);
    assert(isEnumerable(plan), `probing enumerates buckets up to distance 63, got ${distanceMax}`);
    return this.finishSearch(plan, distanceMax);
  }

  /** As search, always by comparing the query with every entry. */
  searchByScanning(query: Uint8Array, distanceMax: number): IndexHit[] {
    this.startSearch(query, distanceMax);
    return this.finishSearch(undefined, distanceMax);
  }

  /**
   * Brings the index up to date at once: for a caller that would rather take the cost (about a
   * second per million entries) before the first query, such as a node starting.
   */
  indexPending(): void {
    while (this.indexSlice(Infinity));
  }

  /**
   * Does at most about `wordsMax` entry-words of indexing work (one slice by default): drops removed
   * entries if there are many, starts indexing the entries not in a level if there are more than
   * PENDING_SCAN_MAX, advances the build in progress. Returns whether work is left.
   */
  indexSlice(wordsMax = INDEX_SLICE_WORDS): boolean {
    if (this.compaction === undefined && this.compactionDue()) this.compaction = { entries: new PdqEntries(), copiedTo: 0, build: undefined };
    if (this.compaction !== undefined) return this.advanceCompaction(this.compaction, wordsMax);
    this.inProgress ??= this.nextBuild();
    if (this.inProgress === undefined) return false;
    const { build, replacesFrom } = this.inProgress;
    const level = build.advance(wordsMax);
    if (level === undefined) return true;
    this.levels.splice(replacesFrom, this.levels.length - replacesFrom, level);
    this.inProgress = undefined;
    this.probingCheaper = [];
    return this.compactionDue() || this.unindexedCount > PENDING_SCAN_MAX;
  }

  /** Entries in no level yet, which searches scan: removed ones included. */
  get unindexedCount(): number {
    return this.entries.count - this.indexedEnd;
  }

  /** The entries of each level, oldest first: for tests and diagnostics. */
  get levelSizes(): number[] {
    return this.levels.map((level) => level.to - level.from);
  }

  /** Entry-words of indexing left in the build in progress, or 0 (a compaction's copy counts a word per entry): for a shell reporting progress. */
  get indexingWordsLeft(): number {
    const compaction = this.compaction;
    if (compaction === undefined) return this.inProgress?.build.wordsLeft ?? 0;
    return compaction.build?.wordsLeft ?? this.entries.count - compaction.copiedTo;
  }

  /**
   * The entries not in a level, as one new level merged with every level before it that is smaller
   * than LEVEL_SIZE_RATIO times what the merge holds so far, up to levelEntriesMax entries in all;
   * undefined while they are few.
   */
  private nextBuild(): LevelInProgress | undefined {
    const count = this.entries.count;
    if (this.unindexedCount <= PENDING_SCAN_MAX) return undefined;
    let replacesFrom = this.levels.length;
    while (replacesFrom > 0) {
      const older = this.levels[replacesFrom - 1]!;
      if ((count - older.to) * LEVEL_SIZE_RATIO < older.to - older.from || count - older.from > this.levelEntriesMax) break;
      replacesFrom--;
    }
    const from = replacesFrom === this.levels.length ? this.indexedEnd : this.levels[replacesFrom]!.from;
    return { build: new PdqLevelBuild(this.entries, from, Math.min(count, from + this.levelEntriesMax)), replacesFrom };
  }

  private compactionDue(): boolean {
    const entries = this.entries;
    return entries.removedCount > 0 && entries.removedCount * REMOVED_FRACTION_MAX > entries.count;
  }

  /**
   * One slice of a compaction: copying live entries (a word of the budget each), then building the
   * copy's first level; once built, the copy and its level replace the entries and every level (the
   * build in progress on the old entries is dropped: its entries are in the new level or after it).
   * Entries added meanwhile are copied as the copy catches up, the last of them at the swap.
   */
  private advanceCompaction(compaction: Compaction, wordsMax: number): boolean {
    const copying = Math.min(this.entries.count - compaction.copiedTo, Math.max(1, wordsMax));
    compaction.entries.appendLive(this.entries, compaction.copiedTo, compaction.copiedTo + copying);
    compaction.copiedTo += copying;
    if (compaction.build === undefined && compaction.copiedTo < this.entries.count) return true;
    const copy = compaction.entries;
    let level: PdqLevel | undefined;
    if (copy.count > 0) {
      compaction.build ??= new PdqLevelBuild(copy, 0, Math.min(copy.count, this.levelEntriesMax));
      level = compaction.build.advance(Math.max(1, wordsMax - copying));
      if (level === undefined) return true;
    }
    copy.appendLive(this.entries, compaction.copiedTo, this.entries.count);
    this.entries = copy;
    this.levels = level === undefined ? [] : [level];
    this.inProgress = undefined;
    this.compaction = undefined;
    this.probingCheaper = [];
    return this.compactionDue() || this.unindexedCount > PENDING_SCAN_MAX;
  }

  /** Checks the arguments and loads the query; returns the plan for the distance. */
  private startSearch(query: Uint8Array, distanceMax: number): PdqProbePlan {
    assert(query.length === PDQ_HASH_BYTES, `a PDQ hash is ${PDQ_HASH_BYTES} bytes, got ${query.length}`);
    assert(Number.isInteger(distanceMax) && distanceMax >= 0, `a distance is a whole number, got ${distanceMax}`);
    readHashWords(query, this.queryWords, 0);
    return pdqProbePlan(distanceMax);
  }

  /** The indexed entries by `plan`'s buckets, or by a scan without one, then the entries not yet indexed by a scan. */
  private finishSearch(plan: PdqProbePlan | undefined, distanceMax: number): IndexHit[] {
    const indexedEnd = this.indexedEnd;
    const hits: IndexHit[] = [];
    if (plan === undefined) this.scan(0, indexedEnd, distanceMax, hits);
    else this.probe(plan, distanceMax, hits);
    this.scan(indexedEnd, this.entries.count, distanceMax, hits);
    return hits;
  }

  /** Requires an enumerable plan. */
  private probingIsCheaper(plan: PdqProbePlan, distanceMax: number): boolean {
    if (this.probingCheaper[distanceMax] === undefined) {
      const shapes: LevelShape[] = this.levels.map((level) => ({ keyBits: level.keyBits, entries: level.to - level.from }));
      this.probingCheaper[distanceMax] = probingCostNs(shapes, plan) < scanningCostNs(this.indexedEnd, distanceMax);
    }
    return this.probingCheaper[distanceMax];
  }

  private get indexedEnd(): number {
    return this.levels.length === 0 ? 0 : this.levels[this.levels.length - 1]!.to;
  }

  /** Collects candidates from every level, then checks them in id order, each once. */
  private probe(plan: PdqProbePlan, distanceMax: number, hits: IndexHit[]): void {
    const found = this.candidates;
    found.clear();
    for (const level of this.levels) level.collect(this.queryWords, plan, this.levelSearchSpace, found);
    // Several halves find a true match; sorting also makes the reads of the hashes ascend.
    const ids = found.filled.sort();
    // The hashes' first words, read in a loop of their own so that the misses overlap.
    let touched = 0;
    for (let i = 0; i < ids.length; i++) touched |= this.entries.wordPages[ids[i]! >>> ENTRY_PAGE_BITS]![(ids[i]! & (ENTRIES_PER_PAGE - 1)) * WORDS_PER_HASH]!;
    this.levelSearchSpace.touched = touched;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (i > 0 && id === ids[i - 1]) continue;
      this.check(id, distanceMax, hits);
    }
  }

  /** Checks every entry in [from, to): page by page, the query in locals, four words before the rest. */
  private scan(from: number, to: number, distanceMax: number, hits: IndexHit[]): void {
    const query = this.queryWords;
    const [q0, q1, q2, q3, q4, q5, q6, q7] = [query[0]!, query[1]!, query[2]!, query[3]!, query[4]!, query[5]!, query[6]!, query[7]!];
    for (let id = from; id < to; ) {
      const words = this.entries.wordPages[id >>> ENTRY_PAGE_BITS]!;
      const pageEnd = Math.min(to, ((id >>> ENTRY_PAGE_BITS) + 1) * ENTRIES_PER_PAGE);
      for (; id < pageEnd; id++) {
        const base = (id & (ENTRIES_PER_PAGE - 1)) * WORDS_PER_HASH;
        let distance = bitsSet32(words[base]! ^ q0) + bitsSet32(words[base + 1]! ^ q1) + bitsSet32(words[base + 2]! ^ q2) + bitsSet32(words[base + 3]! ^ q3);
        if (distance > distanceMax) continue;
        distance += bitsSet32(words[base + 4]! ^ q4) + bitsSet32(words[base + 5]! ^ q5) + bitsSet32(words[base + 6]! ^ q6) + bitsSet32(words[base + 7]! ^ q7);
        if (distance <= distanceMax && !this.entries.isRemoved(id)) hits.push({ logIndex: this.entries.logIndexAt(id), distance });
      }
    }
  }

  /** Adds entry `id` to `hits` if it is live and within `distanceMax` of the query. */
  private check(id: number, distanceMax: number, hits: IndexHit[]): void {
    const words = this.entries.wordPages[id >>> ENTRY_PAGE_BITS]!;
    const base = (id & (ENTRIES_PER_PAGE - 1)) * WORDS_PER_HASH;
    const query = this.queryWords;
    let distance = 0;
    for (let word = 0; word < WORDS_PER_HASH; word++) distance += bitsSet32(words[base + word]! ^ query[word]!);
    if (distance <= distanceMax && !this.entries.isRemoved(id)) hits.push({ logIndex: this.entries.logIndexAt(id), distance });
  }
}
