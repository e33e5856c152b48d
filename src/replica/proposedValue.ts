import type { AssembledBatch, BatchEntry } from "../batch";
import type { Batch } from "../gen/hashfed/v1/batch";
import type { BatchReference } from "../gen/hashfed/v1/peer";
import type { LogEntry } from "../gen/hashfed/v1/statement";
import type { SignedStatement } from "../statements";
import { referenceOf } from "./batchReference";
import { wireBatch } from "./peerMessages";

/**
 * A batch proposed at the current height, as this replica holds it: built here (the proposer's
 * own, checked already), resolved from a proposal's reference against the statements this replica
 * holds, or received whole from a peer it asked. Proposals carry the reference and peers that ask
 * get the whole batch; each form is made from the other when first needed, and once.
 */
export class ProposedValue {
  /** valid(v) once computed: the assembled batch, or invalid. */
  checked: AssembledBatch | undefined;
  invalid = false;
  /** Whether this replica's write-ahead state holds the batch (with a proposal or a precommit of it). */
  recorded = false;
  /** The statement of each entry of `batch`, where this replica had it parsed already. */
  private readonly parsedEntries = new Map<LogEntry, SignedStatement>();

  private constructor(
    private readonly entries: readonly BatchEntry[] | undefined,
    private whole: Batch | undefined,
    private named: BatchReference | undefined,
  ) {}

  /** The batch this replica built as proposer. */
  static built(batch: AssembledBatch): ProposedValue {
    const value = new ProposedValue(batch.entries, undefined, undefined);
    value.checked = batch;
    return value;
  }

  /** A proposal's reference, with the entries it names as this replica holds them. */
  static referenced(reference: BatchReference, entries: readonly BatchEntry[]): ProposedValue {
    return new ProposedValue(entries, undefined, reference);
  }

  /** A batch a peer sent whole. */
  static received(batch: Batch): ProposedValue {
    return new ProposedValue(undefined, batch, undefined);
  }

  /** The header's exact bytes. */
  get header(): Buffer {
    return this.whole?.header ?? this.named?.header ?? this.checked!.headerBytes;
  }

  /** The whole batch, as peers that ask are sent it and as valid(v) checks it. */
  get batch(): Batch {
    if (this.whole === undefined) {
      const entries = this.entries!;
      this.whole = wireBatch({ headerBytes: this.header, entries });
      this.whole.entries.forEach((logEntry, i) => this.parsedEntries.set(logEntry, entries[i]!.signed));
    }
    return this.whole;
  }

  /** The statement of an entry of `batch`, if this replica had it parsed before. */
  parsed(logEntry: LogEntry): SignedStatement | undefined {
    return this.parsedEntries.get(logEntry);
  }

  /**
   * The reference a proposal of this batch carries; undefined for a batch received whole and not
   * found valid, which this replica neither proposes nor passes on as a proposal.
   */
  get reference(): BatchReference | undefined {
    const entries = this.entries ?? this.checked?.entries;
    if (this.named === undefined && entries !== undefined) this.named = referenceOf(this.header, entries);
    return this.named;
  }
}
