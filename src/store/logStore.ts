import { assert } from "../assert";
import { HashfedError } from "../errors";
import type { AssembledBatch } from "../batch";
import { type CommitCertificate, CommittedBatch, Evidence } from "../gen/hashfed/v1/batch";
import { BatchSummary, ChainHeadRecord } from "../gen/hashfed/v1/store";
import { Reveal } from "../gen/hashfed/v1/statement";
import type { NodeId } from "../log/subtree";
import { CoalescedReads } from "./coalescedReads";
import type { KeyValueStore, WriteOperation } from "./keyValueStore";
import { FEDERATION_KEY, HEAD_KEY, KeyPrefix, MEMBER_KEY, nodeKey, numberKey } from "./keys";
import { LevelKeyValueStore } from "./levelKeyValueStore";

/** Batch summaries read per store call during a start-up replay. */
const SUMMARY_CHUNK = 256;

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
 * A node's durable log: entries, reveals, statement ids, perfect-subtree hashes, cosigned
 * checkpoints, batches with their certificates, the head, and the evidence of equivocation found. A batch is committed with one atomic,
 * synced write, so after a crash the store holds every batch it acknowledged or none of a batch.
 *
 * It runs on any KeyValueStore: LevelDB on a node (open), a simulated disk in the simulator (on).
 */
export class LogStore {
  private readonly nodeReads: CoalescedReads<Buffer, Buffer>;

  private constructor(private readonly kv: KeyValueStore) {
    this.nodeReads = new CoalescedReads((keys) => kv.getMany(keys));
  }

  /** The store in the LevelDB at `path`; STORE_OPEN_FAILED if it is locked or unreadable. */
  static async open(path: string): Promise<LogStore> {
    return new LogStore(await LevelKeyValueStore.open(path));
  }

  /** The store held in `kv`, which it then owns: close() closes it. */
  static on(kv: KeyValueStore): LogStore {
    return new LogStore(kv);
  }

  async close(): Promise<void> {
    await this.kv.close();
  }

  /**
   * Ties the store to one federation on first use and refuses any other afterwards: a log is only
   * meaningful under the federation whose members signed it.
   */
  async bindFederation(federationId: Buffer): Promise<void> {
    const bound = await this.kv.get(FEDERATION_KEY);
    if (bound === undefined) {
      await this.kv.write([{ type: "put", key: FEDERATION_KEY, value: federationId }], { sync: true });
      return;
    }
    if (!bound.equals(federationId)) {
      // Bound by a start that went no further (an address that did not resolve, say), then the file fixed.
      const empty = (await this.readHead()) === undefined ? "; its log is empty: if this node never ran in that federation, delete the folder and start again" : "";
      throw new HashfedError(
        "precondition",
        "STORE_OTHER_FEDERATION",
        `this data folder holds the log of federation ${bound.toString("hex").slice(0, 16)}…, not of the federation file given (${federationId.toString("hex").slice(0, 16)}…)${empty}`,
      );
    }
  }

  /**
   * Ties the store to the member whose key runs the node, on first use, and refuses any other
   * after: the write-ahead state in it is what that member's key signed, and another member's key
   * run on it (a key file mixed up) had signed against its peers' echoes as that member while its
   * own node ran, evidence of equivocation against a member that did nothing wrong.
   */
  async bindMember(name: string): Promise<void> {
    const bound = await this.kv.get(MEMBER_KEY);
    if (bound === undefined) {
      await this.kv.write([{ type: "put", key: MEMBER_KEY, value: Buffer.from(name, "utf8") }], { sync: true });
      return;
    }
    const owner = bound.toString("utf8");
    if (owner !== name) {
      throw new HashfedError(
        "precondition",
        "STORE_OTHER_MEMBER",
        `this data folder holds the node of ${owner}, not of ${name} (the key given): give ${owner}'s key, or ${name}'s own data folder; two nodes signing as one member sign conflicting votes`,
      );
    }
  }

  async readHead(): Promise<ChainHeadRecord | undefined> {
    const bytes = await this.kv.get(HEAD_KEY);
    return bytes === undefined ? undefined : ChainHeadRecord.decode(bytes);
  }

  async commit({ batch, certificate, checkpointNote, summary }: BatchCommit): Promise<void> {
    const { header } = batch;
    const firstIndex = header.treeSize - BigInt(batch.entries.length);
    const operations: WriteOperation[] = [];
    const put = (key: Buffer, value: Buffer): void => {
      operations.push({ type: "put", key, value });
    };
    batch.entries.forEach((entry, offset) => {
      const index = firstIndex + BigInt(offset);
      put(numberKey(KeyPrefix.Entry, index), entry.signed.entryBytes);
      if (entry.reveal === undefined) return;
      const reveal = batch.revealBytes[offset]!;
      put(numberKey(KeyPrefix.Reveal, index), Buffer.from(reveal.buffer, reveal.byteOffset, reveal.byteLength));
    });
    for (const node of batch.nodeWrites) put(nodeKey(node.level, node.index), node.hash);
    put(numberKey(KeyPrefix.Checkpoint, header.treeSize), Buffer.from(checkpointNote, "utf8"));
    const committed = CommittedBatch.encode({ header: batch.headerBytes, certificate }).finish();
    put(numberKey(KeyPrefix.Batch, header.height), Buffer.from(committed));
    put(numberKey(KeyPrefix.Summary, header.height), Buffer.from(BatchSummary.encode(summary).finish()));
    const head = ChainHeadRecord.encode({ height: header.height, treeSize: header.treeSize, headerHash: batch.id }).finish();
    put(HEAD_KEY, Buffer.from(head));
    await this.kv.write(operations, { sync: true });
  }

  /** The encoded entries at `indexes`, without reveals, in one read; undefined where there is none. */
  readEntryBytes(indexes: readonly bigint[]): Promise<(Buffer | undefined)[]> {
    return this.kv.getMany(indexes.map((index) => numberKey(KeyPrefix.Entry, index)));
  }

  async readEntry(index: bigint): Promise<StoredEntry | undefined> {
    const [entryBytes, revealBytes] = await this.kv.getMany([numberKey(KeyPrefix.Entry, index), numberKey(KeyPrefix.Reveal, index)]);
    if (entryBytes === undefined) return undefined;
    return { index, entryBytes, reveal: revealBytes === undefined ? undefined : Reveal.decode(revealBytes) };
  }

  /** Entries [start, end) in order, with reveals when `withReveals`. */
  async readEntries(start: bigint, end: bigint, withReveals: boolean): Promise<StoredEntry[]> {
    const entries: Buffer[] = [];
    for await (const entryBytes of this.kv.values({ gte: numberKey(KeyPrefix.Entry, start), lt: numberKey(KeyPrefix.Entry, end) })) entries.push(entryBytes);
    assert(BigInt(entries.length) === end - start, `the store holds every entry in [${start}, ${end})`);
    const reveals = new Map<bigint, Reveal>();
    if (withReveals) {
      const range = { gte: numberKey(KeyPrefix.Reveal, start), lt: numberKey(KeyPrefix.Reveal, end) };
      for await (const [key, value] of this.kv.entries(range)) reveals.set(key.readBigUInt64BE(1), Reveal.decode(value));
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
    const range = { gte: numberKey(KeyPrefix.Summary, 0n), lt: Buffer.from([KeyPrefix.Summary + 1]) };
    for await (const value of this.kv.values(range, SUMMARY_CHUNK)) yield BatchSummary.decode(value);
  }

  async readCheckpoint(treeSize: bigint): Promise<string | undefined> {
    const note = await this.kv.get(numberKey(KeyPrefix.Checkpoint, treeSize));
    return note?.toString("utf8");
  }

  async readBatch(height: bigint): Promise<CommittedBatch | undefined> {
    const bytes = await this.kv.get(numberKey(KeyPrefix.Batch, height));
    return bytes === undefined ? undefined : CommittedBatch.decode(bytes);
  }

  /** Keeps the `sequence`th piece of evidence, synced: it is the only proof that a validator equivocated. */
  async addEvidence(sequence: number, evidence: Evidence): Promise<void> {
    const value = Buffer.from(Evidence.encode(evidence).finish());
    await this.kv.write([{ type: "put", key: numberKey(KeyPrefix.Evidence, BigInt(sequence)), value }], { sync: true });
  }

  /** Every piece of evidence kept, in the order it was found. */
  async readEvidence(): Promise<Evidence[]> {
    const evidence: Evidence[] = [];
    const range = { gte: numberKey(KeyPrefix.Evidence, 0n), lt: Buffer.from([KeyPrefix.Evidence + 1]) };
    for await (const value of this.kv.values(range)) evidence.push(Evidence.decode(value));
    return evidence;
  }
}
