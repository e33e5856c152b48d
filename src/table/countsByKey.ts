import { assert } from "../assert";

/**
 * How many of something each key holds (a submitter's pending statements, an address's streams),
 * with no entry for a key at zero: the map stays as small as the keys in use.
 */
export class CountsByKey {
  private readonly counts = new Map<string, number>();

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: string, count = 1): void {
    this.counts.set(key, this.of(key) + count);
  }

  /** Requires the key to hold at least one. */
  removeOne(key: string): void {
    const left = this.of(key) - 1;
    assert(left >= 0, `a count goes below zero for ${key}`);
    if (left === 0) this.counts.delete(key);
    else this.counts.set(key, left);
  }

  clear(): void {
    this.counts.clear();
  }
}
