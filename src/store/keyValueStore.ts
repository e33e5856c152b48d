import { assert } from "../assert";

/**
 * The one storage interface the store code needs: the part of abstract-level that hashfed uses, so
 * that a LogStore (and the consensus write-ahead state) runs on LevelDB in production
 * (LevelKeyValueStore) and on a disk the simulator crashes at will (MemoryKeyValueStore).
 *
 * Keys compare as unsigned bytes (Buffer.compare), as LevelDB's default comparator does. A write takes
 * copies of its buffers when called, and reads return fresh ones: the caller and the store never
 * share a Buffer, so either may reuse or change its own.
 */

/** Keys k with gte <= k < lt; a missing bound leaves that side open. */
export interface KeyRange {
  readonly gte?: Buffer;
  readonly lt?: Buffer;
}

export type WriteOperation = { readonly type: "put"; readonly key: Buffer; readonly value: Buffer } | { readonly type: "del"; readonly key: Buffer };

export interface KeyValueStore {
  get(key: Buffer): Promise<Buffer | undefined>;
  getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]>;
  /**
   * Values in key order within the range, read `chunk` at a time. The iteration reads one snapshot,
   * taken when it begins (the first next()): writes made meanwhile do not show.
   */
  values(range: KeyRange, chunk?: number): AsyncIterable<Buffer>;
  /** Entries in key order within the range, from one snapshot as for values(). */
  entries(range: KeyRange, chunk?: number): AsyncIterable<[Buffer, Buffer]>;
  /**
   * Applies all operations atomically, in order (a later operation on a key wins). With sync,
   * resolves only once they (and every write before them) are durable; without, a crash of the
   * machine may lose them until a later synced write completes.
   */
  write(operations: readonly WriteOperation[], options: { readonly sync: boolean }): Promise<void>;
  /** After close every other call rejects; closing again is harmless. */
  close(): Promise<void>;
}

/** Checks the `chunk` of values() or entries(); every implementation refuses the same ones. */
export function assertChunk(chunk: number): void {
  assert(Number.isInteger(chunk), `a chunk is a whole number of entries, got ${chunk}`);
  assert(chunk > 0, `a chunk holds at least one entry, got ${chunk}`);
}
