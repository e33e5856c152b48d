import { assert } from "../assert";
import { type AssembledBatch, type ChainHead, genesisHead } from "../batch";
import { cosignedCheckpoint, verifyCommitCertificate } from "../consensus";
import type { Federation } from "../federation";
import type { CommitCertificate } from "../gen/hashfed/v1/batch";
import { MatchIndex } from "../index";
import { CompactRange } from "../log/compactRange";
import { rangeNodes } from "../log/subtree";
import type { SignalTypeName } from "../signals";
import { parseStoredLogEntry, type SignedStatement, type StatementId } from "../statements";
import { LogState } from "../state/logState";
import { LogStore, type StoredEntry, TreeReader } from "../store";

export type CommitListener = (batch: AssembledBatch, checkpointNote: string) => void;
export type ReplayProgress = (done: bigint, total: bigint) => void;

const REPLAY_CHUNK_ENTRIES = 4096n;

/**
 * The committed log as this node holds it, and the one commit path: a decided batch with its
 * certificate goes in, its entries are written atomically with the cosigned checkpoint, and the
 * state, the match index and the head move forward. Whether a batch was decided alone or by
 * consensus, it enters here.
 */
export class Ledger {
  private committing = false;
  private readonly listeners = new Set<CommitListener>();

  private constructor(
    readonly federation: Federation,
    readonly store: LogStore,
    readonly tree: TreeReader,
    readonly state: LogState,
    readonly index: MatchIndex,
    private currentHead: ChainHead,
    private currentCheckpoint: string | undefined,
  ) {}

  /** Opens the store and replays it into the state and the match index. */
  static async open(federation: Federation, store: LogStore, progress?: ReplayProgress): Promise<Ledger> {
    const record = await store.readHead();
    const tree = await TreeReader.open(store);
    const ledger = new Ledger(federation, store, tree, new LogState(), new MatchIndex(), genesisHead(), undefined);
    if (record === undefined) return ledger;
    const range = CompactRange.fromHashes(record.treeSize, await store.readNodes(rangeNodes(0n, record.treeSize)));
    ledger.currentHead = { height: record.height, headerHash: Buffer.from(record.headerHash), range };
    ledger.currentCheckpoint = await store.readCheckpoint(record.treeSize);
    assert(ledger.currentCheckpoint !== undefined, "the store holds the checkpoint of its head");
    for (let start = 0n; start < record.treeSize; start += REPLAY_CHUNK_ENTRIES) {
      const end = start + REPLAY_CHUNK_ENTRIES < record.treeSize ? start + REPLAY_CHUNK_ENTRIES : record.treeSize;
      for (const stored of await store.readEntries(start, end, true)) ledger.apply(parseStoredLogEntry(stored.entryBytes), stored);
      progress?.(end, record.treeSize);
    }
    return ledger;
  }

  get head(): ChainHead {
    return this.currentHead;
  }

  get treeSize(): bigint {
    return this.currentHead.range.size;
  }

  /** The latest quorum-cosigned checkpoint; undefined while the log is empty. */
  get checkpoint(): string | undefined {
    return this.currentCheckpoint;
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async commit(batch: AssembledBatch, certificate: CommitCertificate): Promise<void> {
    assert(!this.committing, "commits are sequential");
    assert(batch.header.height === this.currentHead.height + 1n, "a batch follows the head");
    assert(batch.header.previousHeaderHash.equals(this.currentHead.headerHash), "a batch extends the head");
    this.committing = true;
    try {
      const votes = verifyCommitCertificate(this.federation, certificate, batch);
      const checkpointNote = cosignedCheckpoint(votes, batch.checkpointBody);
      await this.store.commit({ batch, certificate, checkpointNote });
      const firstIndex = this.treeSize;
      batch.entries.forEach((entry, offset) =>
        this.apply(entry.signed, { index: firstIndex + BigInt(offset), entryBytes: entry.signed.entryBytes, reveal: entry.reveal }),
      );
      this.tree.remember(batch.nodeWrites);
      this.currentHead = { height: batch.header.height, headerHash: batch.id, range: batch.range };
      this.currentCheckpoint = checkpointNote;
      for (const listener of this.listeners) listener(batch, checkpointNote);
    } finally {
      this.committing = false;
    }
  }

  /** The committed entry of a statement, or undefined. */
  indexOf(id: StatementId): number | undefined {
    return this.state.indexOf(id);
  }

  private apply(signed: SignedStatement, stored: StoredEntry): void {
    assert(BigInt(this.state.size) === stored.index, "entries apply in log order");
    this.state.append(signed);
    const body = signed.statement.body!;
    if (body.$case === "addSignal") {
      assert(stored.reveal !== undefined, "every committed AddSignal has its reveal");
      this.index.add(body.value.signalType as SignalTypeName, stored.reveal.value, Number(stored.index));
    } else {
      this.index.retract(this.state.indexOf(body.value.target as StatementId)!);
    }
  }
}
