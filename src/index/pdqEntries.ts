import { assert } from "../assert";
import { PDQ_HASH_BYTES } from "../signals";
import { IncreasingLogIndexes } from "./increasingLogIndexes";

/** Entries per page: 2^16, so an entry id splits into a page (id >>> 16) and a slot (id & 0xffff). */
export const ENTRY_PAGE_BITS = 16;
export const ENTRIES_PER_PAGE = 1 << ENTRY_PAGE_BITS;
export const WORDS_PER_HASH = 8;

/**
 * The PDQ hashes a multi-index holds, numbered by entry id in the order they were added: for each,
 * eight 32-bit words (big-endian reads of its 32 bytes: word j holds DCT rows 15-2j and 14-2j, so
 * its high and low 16 bits are the C++ reference's uint16 words), its log index, and whether it was
 * removed. Log indexes increase with entry id, so a log index is found by binary search.
 *
 * The words are stored in pages of 65,536 entries: growth allocates one page and copies nothing, and
 * memory stays within one page (2 MB) of the entry count. A doubling array would hold up to twice
 * the hashes, 320 MB extra at 10 million.
 */
export class PdqEntries {
  /** Page p holds the words of entries p * 65,536 onwards, eight per entry. Read directly by the search loops. */
  readonly wordPages: Uint32Array[] = [];
  private readonly logIndexes = new IncreasingLogIndexes();
  /** Bit i set: entry i was removed. Removed entries stay; a compaction copies the others into new entries (appendLive). */
  private removedBits = new Uint32Array(ENTRIES_PER_PAGE / 32);
  private entryCount = 0;
  private removedEntries = 0;

  /** Entries added, removed ones included: ids run from 0 to count - 1. */
  get count(): number {
    return this.entryCount;
  }

  get removedCount(): number {
    return this.removedEntries;
  }

  get liveCount(): number {
    return this.entryCount - this.removedEntries;
  }

  /** Bytes of typed arrays held. */
  get byteLength(): number {
    return this.wordPages.length * ENTRIES_PER_PAGE * WORDS_PER_HASH * 4 + this.logIndexes.byteLength + this.removedBits.byteLength;
  }

  /** Requires log indexes to increase from call to call. Returns the new entry's id. */
  add(value: Uint8Array, logIndex: number): number {
    assert(value.length === PDQ_HASH_BYTES, `a PDQ hash is ${PDQ_HASH_BYTES} bytes, got ${value.length}`);
    assert(Number.isInteger(logIndex) && logIndex >= 0 && logIndex < 2 ** 32, `log indexes in memory are 32-bit, got ${logIndex}`);
    const id = this.entryCount;
    this.logIndexes.push(logIndex);
    const page = id >>> ENTRY_PAGE_BITS;
    if (page === this.wordPages.length) this.addPage();
    const slot = id & (ENTRIES_PER_PAGE - 1);
    readHashWords(value, this.wordPages[page]!, slot * WORDS_PER_HASH);
    this.entryCount++;
    return id;
  }

  logIndexAt(id: number): number {
    return this.logIndexes.at(id);
  }

  isRemoved(id: number): boolean {
    return (this.removedBits[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /** The id of the entry with `logIndex`, removed or not, or undefined. */
  idOfLogIndex(logIndex: number): number | undefined {
    let low = 0;
    let high = this.entryCount;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.logIndexAt(middle) < logIndex) low = middle + 1;
      else high = middle;
    }
    return low < this.entryCount && this.logIndexAt(low) === logIndex ? low : undefined;
  }

  /** Marks the entry with `logIndex` removed. Returns whether a live entry had that log index. */
  remove(logIndex: number): boolean {
    const id = this.idOfLogIndex(logIndex);
    if (id === undefined || this.isRemoved(id)) return false;
    this.removedBits[id >>> 5]! |= 1 << (id & 31);
    this.removedEntries++;
    return true;
  }

  /**
   * Appends the live entries of `source` with ids in [from, to), in order: a compaction copies the
   * live entries into new ones this way, a slice at a time, while `source` is still searched.
   */
  appendLive(source: PdqEntries, from: number, to: number): void {
    for (let id = from; id < to; id++) {
      if (source.isRemoved(id)) continue;
      const copy = this.entryCount;
      this.logIndexes.push(source.logIndexAt(id));
      if (copy >>> ENTRY_PAGE_BITS === this.wordPages.length) this.addPage();
      const words = source.wordPages[id >>> ENTRY_PAGE_BITS]!;
      const offset = (id & (ENTRIES_PER_PAGE - 1)) * WORDS_PER_HASH;
      this.wordPages[copy >>> ENTRY_PAGE_BITS]!.set(words.subarray(offset, offset + WORDS_PER_HASH), (copy & (ENTRIES_PER_PAGE - 1)) * WORDS_PER_HASH);
      this.entryCount++;
    }
  }

  private addPage(): void {
    this.wordPages.push(new Uint32Array(ENTRIES_PER_PAGE * WORDS_PER_HASH));
    const bitWords = (this.wordPages.length * ENTRIES_PER_PAGE) / 32;
    if (bitWords > this.removedBits.length) {
      const grown = new Uint32Array(Math.max(bitWords, this.removedBits.length * 2));
      grown.set(this.removedBits);
      this.removedBits = grown;
    }
  }
}

/** Writes the eight big-endian 32-bit words of a 32-byte PDQ hash into `target` at `offset`. */
export function readHashWords(value: Uint8Array, target: Uint32Array, offset: number): void {
  for (let word = 0; word < WORDS_PER_HASH; word++) {
    const byte = word * 4;
    target[offset + word] = ((value[byte]! << 24) | (value[byte + 1]! << 16) | (value[byte + 2]! << 8) | value[byte + 3]!) >>> 0;
  }
}
