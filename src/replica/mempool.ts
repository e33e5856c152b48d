import { HashfedError } from "../errors";
import type { BatchEntry } from "../batch";
import { statementIdKey, type StatementId } from "../statements";
import { CountsByKey } from "../table";

/**
 * What a statement does, as a key: "retract:" and its target, or "add:" and what the signal is (its
 * submitter, type and value, from the reveal: for "a member adds a signal once while it is live");
 * undefined for an add without its reveal.
 */
function purposeOf(entry: BatchEntry): string | undefined {
  const body = entry.signed.statement.body!;
  if (body.$case === "retract") return retractionPurpose(body.value.target as StatementId);
  if (entry.reveal === undefined) return undefined;
  const value = entry.reveal.value;
  const valueBytes = value instanceof Buffer ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return `add:${entry.signed.statement.submitter}/${body.value.signalType}/${valueBytes.toString("latin1")}`;
}

function retractionPurpose(target: StatementId): string {
  return `retract:${statementIdKey(target)}`;
}

/** Whether a purpose key is an add's: see purposeOf. */
export function addsASignal(purpose: string | undefined): purpose is string {
  return purpose !== undefined && purpose.startsWith("add:");
}

/** A pending statement with its purpose key, computed once when it is added. */
export interface PendingStatement {
  readonly entry: BatchEntry;
  readonly purpose: string | undefined;
}

export interface MempoolLimits {
  readonly statementsMax: number;
  readonly perSubmitterMax: number;
}

/**
 * Statements admitted (parsed, signature and rules checked) and not yet committed, oldest first.
 * Bounded overall and per submitter, so that one member cannot crowd out the others; a statement
 * already pending is not added twice.
 */
export class Mempool {
  private readonly pending = new Map<string, PendingStatement>();
  private readonly perSubmitter = new CountsByKey();
  /**
   * Pending statements by what they do (purposeOf): see doingTheSame. Nearly every purpose has one
   * statement, held as its key alone: a Set per pending statement was garbage the collector traced.
   */
  private readonly byPurpose = new Map<string, string | Set<string>>();

  constructor(private readonly limits: MempoolLimits) {}

  get size(): number {
    return this.pending.size;
  }

  /** Whether the statement whose statementIdKey is `key` is pending. */
  has(key: string): boolean {
    return this.pending.has(key);
  }

  /** The pending statement whose statementIdKey is `key`. */
  get(key: string): BatchEntry | undefined {
    return this.pending.get(key)?.entry;
  }

  /** Throws RESOURCE_EXHAUSTED unless `count` more statements by `submitter` fit. */
  checkRoom(submitter: string, count: number): void {
    if (this.pending.size + count > this.limits.statementsMax) {
      throw new HashfedError(
        "exhausted",
        "MEMPOOL_FULL",
        `the node holds ${this.pending.size} uncommitted statements and takes at most ${this.limits.statementsMax}; retry shortly`,
      );
    }
    const submitterCount = this.perSubmitter.of(submitter);
    if (submitterCount + count > this.limits.perSubmitterMax) {
      throw new HashfedError(
        "exhausted",
        "MEMPOOL_QUOTA",
        `${submitter} has ${submitterCount} uncommitted statements and a quota of ${this.limits.perSubmitterMax}; retry when some have committed`,
      );
    }
  }

  /** Returns false when the statement was already pending. */
  add(entry: BatchEntry): boolean {
    const key = entry.signed.key;
    if (this.pending.has(key)) return false;
    const submitter = entry.signed.statement.submitter;
    this.checkRoom(submitter, 1);
    const purpose = purposeOf(entry);
    this.pending.set(key, { entry, purpose });
    this.perSubmitter.add(submitter);
    if (purpose !== undefined) {
      const same = this.byPurpose.get(purpose);
      if (same === undefined) this.byPurpose.set(purpose, key);
      else if (typeof same === "string") this.byPurpose.set(purpose, new Set([same, key]));
      else same.add(key);
    }
    return true;
  }

  /** Up to `count` pending statements, oldest first, left in place until removed. */
  oldest(count: number): BatchEntry[] {
    const taken: BatchEntry[] = [];
    for (const { entry } of this.pending.values()) {
      if (taken.length === count) break;
      taken.push(entry);
    }
    return taken;
  }

  /** The pending statements with their purposes, oldest first; removing some while going through them is safe. */
  inAgeOrder(): IterableIterator<PendingStatement> {
    return this.pending.values();
  }

  /** Drops a statement that was just committed; returns its purpose key, for doingTheSame. */
  removeCommitted(entry: BatchEntry): string | undefined {
    const key = entry.signed.key;
    const held = this.pending.get(key);
    if (held === undefined) return purposeOf(entry);
    // Computed when it was added: nearly every committed statement was pending.
    this.drop(key, held);
    return held.purpose;
  }

  /** Whether a retraction of `target` by `submitter` is pending (another member's the log refuses). */
  retracts(target: StatementId, submitter: string): boolean {
    return this.doingTheSame(retractionPurpose(target)).some((entry) => entry.signed.statement.submitter === submitter);
  }

  /** Pending statements with this purpose key: that retract the same entry, or add the same signal for the same member. */
  doingTheSame(purpose: string | undefined): BatchEntry[] {
    const same = purpose === undefined ? undefined : this.byPurpose.get(purpose);
    if (same === undefined) return [];
    return typeof same === "string" ? [this.pending.get(same)!.entry] : [...same].map((key) => this.pending.get(key)!.entry);
  }

  /** Drops a statement (by its statementIdKey) that was committed or rejected. */
  remove(key: string): void {
    const held = this.pending.get(key);
    if (held !== undefined) this.drop(key, held);
  }

  private drop(key: string, { entry, purpose }: PendingStatement): void {
    this.pending.delete(key);
    if (purpose !== undefined) {
      const same = this.byPurpose.get(purpose)!;
      if (typeof same === "string") this.byPurpose.delete(purpose);
      else if (same.delete(key) && same.size === 0) this.byPurpose.delete(purpose);
    }
    this.perSubmitter.removeOne(entry.signed.statement.submitter);
  }
}
