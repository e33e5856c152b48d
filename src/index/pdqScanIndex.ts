import { assert } from "../assert";
import { bitsSet32 } from "./bitsSet";

const WORDS_PER_HASH = 8;

/**
 * PDQ near-duplicate search by a plain scan: every stored hash is compared with the query by
 * popcount over eight 32-bit words. Linear in the list size, exact by construction: the baseline
 * the multi-index (PdqMultiIndex) is tested and benchmarked against.
 */
export class PdqScanIndex {
  private words = new Uint32Array(WORDS_PER_HASH * 1024);
  private logIndexes = new Uint32Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(value: Uint8Array, logIndex: number): void {
    assert(value.length === 32, "a PDQ hash is 32 bytes");
    assert(logIndex >= 0 && logIndex < 2 ** 32, "log indexes in memory are 32-bit");
    if (this.count === this.logIndexes.length) this.grow();
    const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    for (let w = 0; w < WORDS_PER_HASH; w++) this.words[this.count * WORDS_PER_HASH + w] = view.readUInt32BE(w * 4);
    this.logIndexes[this.count] = logIndex;
    this.count++;
  }

  /** Removes the entry with `logIndex`, keeping the others in order. Returns whether there was one. Linear, like the search. */
  remove(logIndex: number): boolean {
    const position = this.logIndexes.subarray(0, this.count).indexOf(logIndex);
    if (position < 0) return false;
    this.words.copyWithin(position * WORDS_PER_HASH, (position + 1) * WORDS_PER_HASH, this.count * WORDS_PER_HASH);
    this.logIndexes.copyWithin(position, position + 1, this.count);
    this.count--;
    return true;
  }

  /** Every stored hash within `distanceMax` of `query`, with its distance, in the order added. */
  search(query: Uint8Array, distanceMax: number): { logIndex: number; distance: number }[] {
    const view = Buffer.from(query.buffer, query.byteOffset, query.byteLength);
    const q = Array.from({ length: WORDS_PER_HASH }, (_, w) => view.readUInt32BE(w * 4));
    const found: { logIndex: number; distance: number }[] = [];
    const words = this.words;
    for (let i = 0; i < this.count; i++) {
      const base = i * WORDS_PER_HASH;
      let distance = 0;
      for (let w = 0; w < WORDS_PER_HASH && distance <= distanceMax; w++) distance += bitsSet32(words[base + w]! ^ q[w]!);
      if (distance <= distanceMax) found.push({ logIndex: this.logIndexes[i]!, distance });
    }
    return found;
  }

  private grow(): void {
    const capacity = this.logIndexes.length * 2;
    const words = new Uint32Array(capacity * WORDS_PER_HASH);
    words.set(this.words);
    const logIndexes = new Uint32Array(capacity);
    logIndexes.set(this.logIndexes);
    this.words = words;
    this.logIndexes = logIndexes;
  }
}

