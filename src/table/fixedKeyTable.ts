import { GrowableRecords, GrowableUint32Array } from "./growableArrays";
import { type HashSeed, keyedHash32 } from "./keyedHash";

const EMPTY = 0;
const CAPACITY_MIN = 1024;

/**
 * A multimap from fixed-width byte keys (statement ids, hash values) to numbers (log indexes), in
 * typed arrays: open addressing with linear probing over a power-of-two slot array kept at most half
 * full. Keys come from clients (hash values) and peers (statement ids), so slots are chosen by a
 * hash keyed with the node's secret seed: nobody can choose keys that pile up in one probe run.
 * Each key's hash is kept beside it, so that growing the slot array places every key again without
 * hashing it again: rehashing had taken 3.5 % of a loaded node's event loop. Lookups still compare
 * the bytes; checking a kept hash first cost them one more cache miss. About (width + 16) bytes per
 * entry, no objects, and a replay inserts a million keys in a fraction of a second. Lookups do not
 * depend on the seed.
 */
export class FixedKeyTable {
  private readonly keys: GrowableRecords;
  private readonly values = new GrowableUint32Array();
  /** keyedHash32 of each key, in insertion order. */
  private readonly hashes = new GrowableUint32Array();
  /** Entry number + 1 per slot; EMPTY for none. */
  private slots = new Uint32Array(CAPACITY_MIN);

  constructor(
    readonly keyBytes: number,
    private readonly seed: HashSeed,
  ) {
    this.keys = new GrowableRecords(keyBytes);
  }

  get size(): number {
    return this.values.length;
  }

  /** Makes room for `count` pairs at once, so a replay of known size does not rehash as it grows. */
  reserve(count: number): void {
    while (count * 2 > this.slots.length) this.slots = new Uint32Array(this.slots.length * 2);
    if (this.values.length > 0) this.rehash();
  }

  /** The key of the `entryNumber`-th pair inserted (from 0), as a view. */
  keyAt(entryNumber: number): Buffer {
    return this.keys.view(entryNumber);
  }

  /** Adds a (key, value) pair; a key may appear many times. */
  insert(key: Uint8Array, value: number): void {
    if ((this.values.length + 1) * 2 > this.slots.length) this.grow();
    const hash = keyedHash32(this.seed, key);
    this.push(key, value, hash);
    this.place(this.values.length, hash);
  }

  /**
   * Adds a (key, value) pair unless `key` is already in the table, and says whether it did: one
   * probe run both looks for the key and finds the free slot.
   */
  insertIfAbsent(key: Uint8Array, value: number): boolean {
    if ((this.values.length + 1) * 2 > this.slots.length) this.grow();
    const hash = keyedHash32(this.seed, key);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (; this.slots[slot] !== EMPTY; slot = (slot + 1) & mask) {
      if (this.keys.equals(this.slots[slot]! - 1, key)) return false;
    }
    this.push(key, value, hash);
    this.slots[slot] = this.values.length;
    return true;
  }

  /** The value of the first pair with `key`, or undefined. */
  first(key: Uint8Array): number | undefined {
    const mask = this.slots.length - 1;
    for (let slot = keyedHash32(this.seed, key) & mask; this.slots[slot] !== EMPTY; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]! - 1;
      if (this.keys.equals(entry, key)) return this.values.at(entry);
    }
    return undefined;
  }

  /** The values of every pair with `key`, in insertion order. */
  all(key: Uint8Array): number[] {
    const found: number[] = [];
    const mask = this.slots.length - 1;
    for (let slot = keyedHash32(this.seed, key) & mask; this.slots[slot] !== EMPTY; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]! - 1;
      if (this.keys.equals(entry, key)) found.push(this.values.at(entry));
    }
    return found.sort((a, b) => a - b);
  }

  private push(key: Uint8Array, value: number, hash: number): void {
    this.keys.push(key);
    this.values.push(value);
    this.hashes.push(hash);
  }

  private place(entryNumber: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.slots[slot] = entryNumber;
  }

  private grow(): void {
    this.slots = new Uint32Array(this.slots.length * 2);
    this.rehash();
  }

  private rehash(): void {
    this.slots.fill(EMPTY);
    const hashes = this.hashes.filled;
    for (let entry = 0; entry < hashes.length; entry++) this.place(entry + 1, hashes[entry]!);
  }
}
