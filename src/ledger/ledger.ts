import { randomBytes } from "node:crypto";
import { assert } from "../assert";
import { type AssembledBatch, type ChainHead, genesisHead } from "../batch";
import { cosignedCheckpoint, verifyCommitCertificate } from "../consensus";
import type { Federation } from "../federation";
import type { CommitCertificate } from "../gen/hashfed/v1/batch";
import type { BatchSummary } from "../gen/hashfed/v1/store";
import { MatchIndex } from "../index";
import { parseNote } from "../crypto/signedNote";
import { type Checkpoint, parseCheckpoint } from "../log/checkpoint";
import { CompactRange } from "../log/compactRange";
import { rangeNodes } from "../log/subtree";
import { type SignalTypeName, signalType } from "../signals";
import type { StatementId } from "../statements";
import { STATEMENT_ID_BYTES, statementIdKey } from "../statements";
import { LogState } from "../state/logState";
import { LogStore, storeDamaged, TreeReader } from "../store";
import { RETRACTION_KIND, SIGNAL_KINDS, summarizeBatch } from "../store/batchSummary";

export type CommitListener = (batch: AssembledBatch, checkpointNote: string) => void;
export type ReplayProgress = (done: bigint, total: bigint) => void;

/**
 * The committed log as this node holds it, and the one commit path: a decided batch with its
 * certificate goes in, its entries are written atomically with the cosigned checkpoint, and the
 * state, the match index and the head move forward. Whether a batch was decided alone or by
 * consensus, it enters here.
 */
export class Ledger {
  private committing = false;
  private readonly listeners = new Set<CommitListener>();
  readonly state: LogState;
  readonly index: MatchIndex;
  readonly tree: TreeReader;
  private currentHead: ChainHead = genesisHead();
  private currentCheckpoint: string | undefined;

  private constructor(
    readonly federation: Federation,
    readonly store: LogStore,
  ) {
    // A secret seed for the in-memory tables' hash, so that no client or peer can flood them.
    const seed = new Uint32Array(randomBytes(8).buffer);
    this.state = new LogState([seed[0]!, seed[1]!]);
    this.index = new MatchIndex([seed[0]!, seed[1]!]);
    this.tree = new TreeReader(store);
  }

  /**
   * Opens the store and replays it into the state, the match index and the tree's upper levels,
   * from the batch summaries: no entry is read, decoded or hashed.
   */
  static async open(federation: Federation, store: LogStore, progress?: ReplayProgress): Promise<Ledger> {
    const ledger = new Ledger(federation, store);
    const record = await store.readHead();
    if (record === undefined) return ledger;
    ledger.state.reserve(Number(record.treeSize));
    for await (const summary of store.scanSummaries()) {
      if (BigInt(ledger.state.size) + BigInt(summary.kinds.length) > record.treeSize) throw storeDamaged(`its batch summaries hold more entries than its head (${record.treeSize})`);
      ledger.replay(summary);
      progress?.(BigInt(ledger.state.size), record.treeSize);
    }
    if (BigInt(ledger.state.size) !== record.treeSize) throw storeDamaged(`its batch summaries hold ${ledger.state.size} entries, its head ${record.treeSize}`);
    const range = CompactRange.fromHashes(record.treeSize, await store.readNodes(rangeNodes(0n, record.treeSize)));
    ledger.currentHead = { height: record.height, headerHash: Buffer.from(record.headerHash), range };
    ledger.currentCheckpoint = await store.readCheckpoint(record.treeSize);
    if (ledger.currentCheckpoint === undefined) throw storeDamaged(`it lacks the checkpoint of its head (size ${record.treeSize})`);
    await checkTreeAgainstCheckpoint(ledger.tree, range, ledger.currentCheckpoint);
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
      const targets = this.retractionTargets(batch);
      await this.store.commit({ batch, certificate, checkpointNote, summary: summarizeBatch(batch, targets) });
      let retraction = 0;
      for (const { signed, reveal } of batch.entries) {
        const body = signed.statement.body!;
        if (body.$case === "retract") this.appendEntry(signed.id, signed.statement.submitter, targets[retraction++]!, undefined);
        else this.appendEntry(signed.id, signed.statement.submitter, undefined, { type: body.value.signalType as SignalTypeName, value: reveal!.value });
      }
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

  /** The log index each retraction of the batch withdraws, in order; the batch was validated. */
  private retractionTargets(batch: AssembledBatch): number[] {
    const first = Number(this.treeSize);
    // The batch's own entries by id, for a retraction of an entry earlier in the same batch: made only
    // when one needs it, since hardly any batch has one and every commit would pay for it.
    let batchIndexes: Map<string, number> | undefined;
    const targets: number[] = [];
    for (const entry of batch.entries) {
      const body = entry.signed.statement.body!;
      if (body.$case !== "retract") continue;
      let target = this.state.indexOf(body.value.target);
      if (target === undefined) {
        batchIndexes ??= new Map(batch.entries.map((each, offset) => [each.signed.key, first + offset]));
        target = batchIndexes.get(statementIdKey(body.value.target));
      }
      assert(target !== undefined, "a committed retraction targets an entry on the log");
      targets.push(target);
    }
    return targets;
  }

  /** Adds one committed entry to the state and the match index: a retraction, or a signal with its value. */
  private appendEntry(id: Uint8Array, submitter: string, retractionTarget: number | undefined, signal: { type: SignalTypeName; value: Uint8Array } | undefined): void {
    const logIndex = this.state.size;
    this.state.appendCommitted(id, submitter, retractionTarget);
    if (retractionTarget !== undefined) this.index.retract(retractionTarget);
    else this.index.add(signal!.type, signal!.value, logIndex);
  }

  private replay(summary: BatchSummary): void {
    const start = this.state.size;
    const count = summary.kinds.length;
    let valueOffset = 0;
    let retraction = 0;
    for (let i = 0; i < count; i++) {
      const id = summary.statementIds.subarray(i * STATEMENT_ID_BYTES, (i + 1) * STATEMENT_ID_BYTES);
      const submitter = summary.submitterNames[summary.submitters[i]!]!;
      const kind = summary.kinds[i]!;
      if (kind === RETRACTION_KIND) {
        this.appendEntry(id, submitter, Number(summary.retractionTargets[retraction++]!), undefined);
        continue;
      }
      const type = SIGNAL_KINDS[kind]!;
      const valueBytes = signalType(type).valueBytes;
      this.appendEntry(id, submitter, undefined, { type, value: summary.values.subarray(valueOffset, valueOffset + valueBytes) });
      valueOffset += valueBytes;
    }
    if (!this.tree.rememberUpper(BigInt(start), BigInt(start + count), summary.upperNodeHashes)) {
      throw storeDamaged(`the summary of the batch of entries ${start} to ${start + count - 1} does not hold the tree nodes those entries complete`);
    }
  }
}

/**
 * The tree must give the root that the head's cosigned checkpoint names, both as the next commit
 * extends it (the right edge, from the stored nodes) and as proofs read it (the upper levels, from
 * the batch summaries): LevelDB reads without checksums here, and a damaged node would otherwise be
 * served, silently, inside every proof or the next checkpoint.
 */
async function checkTreeAgainstCheckpoint(tree: TreeReader, range: CompactRange, note: string): Promise<void> {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(note).text);
  } catch (error) {
    throw storeDamaged(`its latest checkpoint does not parse (${(error as Error).message})`);
  }
  if (checkpoint.size !== range.size || !checkpoint.root.equals(range.root())) {
    throw storeDamaged(`its tree of size ${range.size} does not have the root of its own checkpoint (size ${checkpoint.size})`);
  }
  const inconsistent = tree.firstInconsistentUpperNode();
  if (inconsistent !== undefined) throw storeDamaged(`its batch summaries hold tree node ${inconsistent.level}/${inconsistent.index}, which is not the hash of its two children`);
  if (!(await tree.rootAt(range.size)).equals(checkpoint.root)) throw storeDamaged(`the tree its batch summaries give does not have the root of its own checkpoint (size ${checkpoint.size})`);
}
