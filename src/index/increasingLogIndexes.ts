import { assert } from "../assert";

/** Entries a block: a block's log indexes are kept as offsets from its first. */
const BLOCK_BITS = 12;
const BLOCK_ENTRIES = 1 << BLOCK_BITS;
/** Entries a page of offsets: growth allocates a page and copies nothing. */
const PAGE_BITS = 16;
const PAGE_ENTRIES = 1 << PAGE_BITS;
const OFFSET_MAX = 0xffff;

/**
 * The log indexes of a multi-index's entries, in entry order, increasing: 2 bytes an entry instead
 * of 4, as a 16-bit offset from the first log index of the entry's block of 4,096. A block whose log
 * indexes span more than 65,535 (a log where under 1 entry in 16 is a PDQ hash) keeps 32-bit values
 * instead. At 10 million entries that is 19 MiB saved, on an index meant to stay under 1 GiB.
 */
export class IncreasingLogIndexes {
  /** The first log index of each block. */
  private blockFirsts = new Uint32Array(64);
  /** 1 for a block kept as 32-bit values, in wideBlocks. */
  private blockIsWide = new Uint8Array(64);
  private readonly wideBlocks = new Map<number, Uint32Array>();
  private readonly offsetPages: Uint16Array[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** Bytes of typed arrays held. */
  get byteLength(): number {
    return this.blockFirsts.byteLength + this.blockIsWide.byteLength + this.offsetPages.length * PAGE_ENTRIES * 2 + this.wideBlocks.size * BLOCK_ENTRIES * 4;
  }

  /** Requires `logIndex` above the last one pushed. */
  push(logIndex: number): void {
    const id = this.count;
    if (id > 0) assert(logIndex > this.at(id - 1), `log indexes are added in increasing order: ${logIndex} after ${this.at(id - 1)}`);
    const block = id >>> BLOCK_BITS;
    if ((id & (BLOCK_ENTRIES - 1)) === 0) this.startBlock(block, logIndex);
    if ((id & (PAGE_ENTRIES - 1)) === 0) this.offsetPages.push(new Uint16Array(PAGE_ENTRIES));
    this.count++;
    if (this.blockIsWide[block] === 0 && logIndex - this.blockFirsts[block]! > OFFSET_MAX) this.widen(block);
    if (this.blockIsWide[block] === 1) this.wideBlocks.get(block)![id & (BLOCK_ENTRIES - 1)] = logIndex;
    else this.offsetPages[id >>> PAGE_BITS]![id & (PAGE_ENTRIES - 1)] = logIndex - this.blockFirsts[block]!;
  }

  at(id: number): number {
    const block = id >>> BLOCK_BITS;
    if (this.blockIsWide[block] === 1) return this.wideBlocks.get(block)![id & (BLOCK_ENTRIES - 1)]!;
    return this.blockFirsts[block]! + this.offsetPages[id >>> PAGE_BITS]![id & (PAGE_ENTRIES - 1)]!;
  }

  private startBlock(block: number, firstLogIndex: number): void {
    if (block === this.blockFirsts.length) {
      const firsts = new Uint32Array(block * 2);
      firsts.set(this.blockFirsts);
      this.blockFirsts = firsts;
      const isWide = new Uint8Array(block * 2);
      isWide.set(this.blockIsWide);
      this.blockIsWide = isWide;
    }
    this.blockFirsts[block] = firstLogIndex;
  }

  /** Moves `block`'s entries so far (the last one pushed excluded, it is written by the caller) to 32-bit values. */
  private widen(block: number): void {
    const values = new Uint32Array(BLOCK_ENTRIES);
    for (let id = block << BLOCK_BITS; id < this.count - 1; id++) values[id & (BLOCK_ENTRIES - 1)] = this.at(id);
    this.wideBlocks.set(block, values);
    this.blockIsWide[block] = 1;
  }
}
