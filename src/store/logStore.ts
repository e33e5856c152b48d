import { Level } from "level";
import { assert } from "../assert";
import { HashfedError } from "../errors";
import type { AssembledBatch } from "../batch";
import { type CommitCertificate, CommittedBatch } from "../gen/hashfed/v1/batch";
import { BatchSummary, ChainHeadRecord } from "../gen/hashfed/v1/store";
import { Reveal } from "../gen/hashfed/v1/statement";
import type { NodeId } from "../log/subtree";
import { CoalescedReads } from "./coalescedReads";
import { FEDERATION_KEY, HEAD_KEY, KeyPrefix, nodeKey, numberKey } from "./keys";

/** One committed entry as read back: the leaf bytes and, for an AddSignal, its reveal. */
export interface StoredEntry {
  readonly index: bigint;
  readonly entryBytes: Buffer;
  readonly reveal: Reveal | undefined;
}

export interface BatchCommit {
  readonly batch: AssembledBatch;
  readonly certificate: CommitCertificate;
  /** The quorum-cosigned checkpoint for the tree after the batch. */
  readonly checkpointNote: string;
  readonly summary: BatchSummary;
}

/**
 * A node's durable log on LevelDB: entries, reveals, statement ids, perfect-subtree hashes,
 * cosigned checkpoints, batches with their certificates, and the head. A batch is committed with
 * one atomic, synced write, so after a crash the store holds every batch it acknowledged or none of
 * a batch.
 */
export class LogStore {
  private readonly nodeReads: CoalescedReads<Buffer, Buffer>;

  private constructor(private readonly db: Level<Buffer, Buffer>) {
    this.nodeReads = new CoalescedReads((keys) => db.getMany(keys));
  }

  static async open(path: string): Promise<LogStore> {
    const db = new Level<Buffer, Buffer>(path, { keyEncoding: "buffer", valueEncoding: "buffer" });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new HashfedError("unavailable", "STORE_OPEN_FAILED", `cannot open the store at ${path}: ${cause}`);
    }
    return new LogStore(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * Ties the store to one federation on first use and refuses any other afterwards: a log is only
   * meaningful under the federation whose members signed it.
   */
  async bindFederation(federationId: Buffer): Promise<void> {
    const bound = await this.db.get(FEDERATION_KEY);
    if (bound === undefined) {
      await this.db.put(FEDERATION_KEY, federationId, { sync: true });
      return;
    }
    if (!bound.equals(federationId)) {
      throw new HashfedError(
        "precondition",
        "STORE_OTHER_FEDERATION",
        `this data folder holds the log of federation ${bound.toString("hex").slice(0, 16)}…, not of the federation file given (${federationId.toString("hex").slice(0, 16)}…)`,
      );
    }
  }

  async readHead(): Promise<ChainHeadRecord | undefined> {
    const bytes = await this.db.get(HEAD_KEY);
    return bytes === undefined ? undefined : ChainHeadRecord.decode(bytes);
  }

  async commit({ batch, certificate, checkpointNote, summary }: BatchCommit): Promise<void> {
    const { header } = batch;
    const firstIndex = header.treeSize - BigInt(batch.entries.length);
    const write = this.db.batch();
    batch.entries.forEach((entry, offset) => {
      const index = firstIndex + BigInt(offset);
      write.put(numberKey(KeyPrefix.Entry, index), entry.signed.entryBytes);
      if (entry.reveal !== undefined) write.put(numberKey(KeyPrefix.Reveal, index), Buffer.from(Reveal.encode(entry.reveal).finish()));
    });
    for (const node of batch.nodeWrites) write.put(nodeKey(node.level, node.index), node.hash);
    write.put(numberKey(KeyPrefix.Checkpoint, header.treeSize), Buffer.from(checkpointNote, "utf8"));
    const committed = CommittedBatch.encode({ header: batch.headerBytes, certificate }).finish();
    write.put(numberKey(KeyPrefix.Batch, header.height), Buffer.from(committed));
    write.put(numberKey(KeyPrefix.Summary, header.height), Buffer.from(BatchSummary.encode(summary).finish()));
    const head = ChainHeadRecord.encode({ height: header.height, treeSize: header.treeSize, headerHash: batch.id }).finish();
    write.put(HEAD_KEY, Buffer.from(head));
    await write.write({ sync: true });
  }

  async readEntry(index: bigint): Promise<StoredEntry | undefined> {
    const [entryBytes, revealBytes] = await this.db.getMany([numberKey(KeyPrefix.Entry, index), numberKey(KeyPrefix.Reveal, index)]);
    if (entryBytes === undefined) return undefined;
    return { index, entryBytes, reveal: revealBytes === undefined ? undefined : Reveal.decode(revealBytes) };
  }

  /** Entries [start, end) in order, with reveals when `withReveals`. */
  async readEntries(start: bigint, end: bigint, withReveals: boolean): Promise<StoredEntry[]> {
    const entries = await this.db.values({ gte: numberKey(KeyPrefix.Entry, start), lt: numberKey(KeyPrefix.Entry, end) }).all();
    assert(BigInt(entries.length) === end - start, `the store holds every entry in [${start}, ${end})`);
    const reveals = new Map<bigint, Reveal>();
    if (withReveals) {
      const range = { gte: numberKey(KeyPrefix.Reveal, start), lt: numberKey(KeyPrefix.Reveal, end) };
      for await (const [key, value] of this.db.iterator(range)) reveals.set(key.readBigUInt64BE(1), Reveal.decode(value));
    }
    return entries.map((entryBytes, offset) => {
      const index = start + BigInt(offset);
      return { index, entryBytes, reveal: reveals.get(index) };
    });
  }

  /** Hashes of stored perfect subtrees; a missing one means the store is damaged. */
  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    const hashes = await this.nodeReads.read(ids.map((id) => nodeKey(id.level, id.index)));
    return hashes.map((hash, i) => {
      if (hash === undefined) {
        throw new HashfedError("unavailable", "STORE_DAMAGED", `the store lacks the hash of node ${ids[i]!.level}/${ids[i]!.index}`);
      }
      return hash;
    });
  }

  /** Every batch summary in height order, read a few hundred at a time. */
  async *scanSummaries(): AsyncGenerator<BatchSummary> {
    const iterator = this.db.values({ gte: numberKey(KeyPrefix.Summary, 0n), lt: Buffer.from([KeyPrefix.Summary + 1]) });
    try {
      for (let chunk = await iterator.nextv(256); chunk.length > 0; chunk = await iterator.nextv(256)) {
        for (const value of chunk) yield BatchSummary.decode(value);
      }
    } finally {
      await iterator.close();
    }
  }

  async readCheckpoint(treeSize: bigint): Promise<string | undefined> {
    const note = await this.db.get(numberKey(KeyPrefix.Checkpoint, treeSize));
    return note?.toString("utf8");
  }

  async readBatch(height: bigint): Promise<CommittedBatch | undefined> {
    const bytes = await this.db.get(numberKey(KeyPrefix.Batch, height));
    return bytes === undefined ? undefined : CommittedBatch.decode(bytes);
  }
}
