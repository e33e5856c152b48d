import type { AssembledBatch } from "../batch";
import type { StoredEntry } from "../store";

/**
 * The batches committed since a follower last read, held so that a follower that keeps up is served
 * from memory: reading the entries back from the store cost every follower a few thread-pool round
 * trips on the path of every entry. A follower that falls behind by more than `entriesMax` reads
 * the store as before.
 */
export class RecentBatches {
  private batches: Pick<AssembledBatch, "header" | "entries">[] = [];
  private held = 0;

  constructor(private readonly entriesMax: number) {}

  /** Called with each batch as it commits, in order. */
  add(batch: Pick<AssembledBatch, "header" | "entries">): void {
    const last = this.batches[this.batches.length - 1];
    if (last !== undefined && firstIndexOf(batch) !== last.header.treeSize) this.clear(); // held batches are contiguous
    this.batches.push(batch);
    this.held += batch.entries.length;
    if (this.held > this.entriesMax) this.clear();
  }

  /** Entries [start, end) as the store would return them with reveals, or undefined if not all are held. */
  entries(start: bigint, end: bigint): StoredEntry[] | undefined {
    while (this.batches.length > 0 && this.batches[0]!.header.treeSize <= start) this.held -= this.batches.shift()!.entries.length;
    const first = this.batches[0];
    if (first === undefined || firstIndexOf(first) > start || this.batches[this.batches.length - 1]!.header.treeSize < end) return undefined;
    // Only the range's own entries are touched: a follower reads a batch in chunks, and walking
    // every held entry for each chunk made the cost grow with the square of the batch.
    const entries: StoredEntry[] = [];
    for (const batch of this.batches) {
      const batchStart = firstIndexOf(batch);
      const from = Math.max(0, Number(start - batchStart));
      const to = Math.min(batch.entries.length, Number(end - batchStart));
      for (let offset = from; offset < to; offset++) {
        const { signed, reveal } = batch.entries[offset]!;
        entries.push({ index: batchStart + BigInt(offset), entryBytes: signed.entryBytes, reveal });
      }
    }
    return entries.length === Number(end - start) ? entries : undefined;
  }

  private clear(): void {
    this.batches = [];
    this.held = 0;
  }
}

function firstIndexOf(batch: Pick<AssembledBatch, "header" | "entries">): bigint {
  return batch.header.treeSize - BigInt(batch.entries.length);
}
