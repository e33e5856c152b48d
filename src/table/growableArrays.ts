/**
 * Typed arrays that grow by doubling: compact columns for per-entry data, without an object per
 * entry. A million entries cost megabytes, and a start-up replay fills them with plain stores.
 */
export class GrowableUint32Array {
  private values: Uint32Array;
  private count = 0;

  constructor(capacity = 1024) {
    this.values = new Uint32Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }

  set(index: number, value: number): void {
    if (index < 0 || index >= this.count) throw new RangeError(`index ${index} outside 0..${this.count - 1}`);
    this.values[index] = value;
  }

  at(index: number): number {
    if (index < 0 || index >= this.count) throw new RangeError(`index ${index} outside 0..${this.count - 1}`);
    return this.values[index]!;
  }

  /** The values pushed, as a view (no copy) for hot loops; valid until the next push. */
  get filled(): Uint32Array {
    return this.values.subarray(0, this.count);
  }

  /** Empties the array and keeps its capacity: a buffer reused from search to search allocates nothing. */
  clear(): void {
    this.count = 0;
  }
}

/** Fixed-width byte strings (hashes, ids) stored end to end: record i is bytes [i*width, (i+1)*width). */
export class GrowableRecords {
  private bytes: Uint8Array;
  private count = 0;

  constructor(
    readonly width: number,
    capacity = 1024,
  ) {
    this.bytes = new Uint8Array(width * capacity);
  }

  get length(): number {
    return this.count;
  }

  push(record: Uint8Array): void {
    if (record.length !== this.width) throw new RangeError(`a record is ${this.width} bytes, got ${record.length}`);
    if ((this.count + 1) * this.width > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes.set(record, this.count * this.width);
    this.count++;
  }

  /**
   * A view of record `index` (no copy). Records are never overwritten, and growth copies into a new
   * array, so the view keeps showing the record; callers must not write through it.
   */
  view(index: number): Buffer {
    if (index < 0 || index >= this.count) throw new RangeError(`record ${index} outside 0..${this.count - 1}`);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + index * this.width, this.width);
  }

  /** Whether record `index` equals `key`. */
  equals(index: number, key: Uint8Array): boolean {
    const offset = index * this.width;
    for (let i = 0; i < this.width; i++) if (this.bytes[offset + i] !== key[i]) return false;
    return true;
  }
}
