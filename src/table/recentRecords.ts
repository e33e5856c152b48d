/**
 * The latest records of a sequence written in index order (index i, then i + 1, ...), at most
 * `capacity` of them, in one typed array used as a ring: record i lives at slot i mod the array's
 * size. Writing the next index evicts the oldest once the ring is full; writing any other index
 * starts a new run there. No object per record, so a long-lived cache of millions of writes gives
 * the collector nothing to trace. The array grows by doubling up to `capacity`, so an instance that
 * holds few records costs little.
 */
export class RecentRecords {
  private bytes: Uint8Array;
  /** Index one past the newest record. */
  private end = 0;
  private count = 0;

  constructor(
    readonly width: number,
    readonly capacity: number,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number of at least 1, got ${capacity}`);
    this.bytes = new Uint8Array(width * Math.min(capacity, 1024));
  }

  get size(): number {
    return this.count;
  }

  /** Writes record `index`: the next in the run, or the first of a new one. */
  put(index: number, record: Uint8Array): void {
    if (record.length !== this.width) throw new RangeError(`a record is ${this.width} bytes, got ${record.length}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`index must be a whole number of at least 0, got ${index}`);
    if (index !== this.end) this.count = 0;
    if (this.count === this.slots && this.slots < this.capacity) this.grow();
    this.bytes.set(record, (index % this.slots) * this.width);
    this.end = index + 1;
    this.count = Math.min(this.count + 1, this.slots);
  }

  has(index: number): boolean {
    return index < this.end && index >= this.end - this.count;
  }

  /** A copy of record `index`, or undefined if it is not held: a slot is reused by later writes. */
  copy(index: number): Buffer | undefined {
    if (!this.has(index)) return undefined;
    const offset = (index % this.slots) * this.width;
    return Buffer.from(this.bytes.subarray(offset, offset + this.width));
  }

  private get slots(): number {
    return this.bytes.length / this.width;
  }

  /**
   * Doubles the ring (up to capacity) and moves each held record to its slot in the new size. The
   * held indexes are one run, which wraps at most once in each ring: it moves in at most three
   * copies, where a copy per record had cost a fresh node's tree 0.8 % of its event loop.
   */
  private grow(): void {
    const slots = Math.min(this.slots * 2, this.capacity);
    const grown = new Uint8Array(slots * this.width);
    for (let index = this.end - this.count; index < this.end; ) {
      const length = Math.min(this.end - index, this.slots - (index % this.slots), slots - (index % slots));
      const from = (index % this.slots) * this.width;
      grown.set(this.bytes.subarray(from, from + length * this.width), (index % slots) * this.width);
      index += length;
    }
    this.bytes = grown;
  }
}
