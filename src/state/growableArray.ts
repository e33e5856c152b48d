/** A typed array that grows by doubling: compact per-entry columns without an object per entry. */
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
}
