import type { Signer } from "../crypto/signer";
import type { HashfedError } from "../errors";
import type { Federation } from "../federation";
import { type BatchEntry, buildBatch } from "../batch";
import { signPrecommit } from "../consensus";
import type { Clock } from "./environment";
import type { Ledger } from "../ledger/ledger";
import type { Mempool } from "../replica/mempool";

export interface SoloSequencerModules {
  readonly federation: Federation;
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly signer: Signer;
  readonly clock: Clock;
  readonly onRejected: (entry: BatchEntry, error: HashfedError) => void;
  /** A commit that failed (the store refused a write): the node cannot go on safely. */
  readonly onFatal: (error: unknown) => void;
}

/**
 * Decides batches for a federation of one validator: this node is the whole quorum, so its own
 * precommit is the commit certificate. Batches go through the same commit path as batches decided
 * by consensus. Statements that arrive while a batch is being written wait for the next one, which
 * gives group commit: one synced write for many statements.
 */
export class SoloSequencer {
  private running = false;
  private scheduled = false;
  private stopped = false;
  private finished: Promise<void> = Promise.resolve();

  constructor(private readonly modules: SoloSequencerModules) {}

  /** There is new work; start a batch soon unless one is running (it will pick the work up). */
  poke(): void {
    if (this.running || this.scheduled || this.stopped) return;
    this.scheduled = true;
    // After the current I/O callbacks, so that a whole request's statements go into one batch.
    this.finished = new Promise((resolve) => setImmediate(() => void this.run().then(resolve)));
  }

  /** Starts no new batch and resolves once the batch being written, if any, is durable. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.finished;
  }

  private async run(): Promise<void> {
    const { federation, ledger, mempool, signer, clock } = this.modules;
    this.scheduled = false;
    this.running = true;
    try {
      while (mempool.size > 0 && !this.stopped) {
        const candidates = mempool.oldest(federation.parameters.batchEntriesMax);
        const meta = { proposer: signer.name, proposerTimeMs: clock.nowMs() };
        const { batch, rejected } = buildBatch(federation, ledger.state, ledger.head, candidates, meta);
        for (const { entry, error } of rejected) {
          mempool.remove(entry.signed.id);
          this.modules.onRejected(entry, error);
        }
        if (batch === undefined) continue;
        const precommit = signPrecommit(federation, signer, batch, 0);
        await ledger.commit(batch, { height: batch.header.height, round: 0, valueId: batch.id, precommits: [precommit] });
      }
    } catch (error) {
      this.modules.onFatal(error);
    } finally {
      this.running = false;
    }
  }
}
