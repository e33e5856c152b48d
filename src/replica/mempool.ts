import { HashfedError } from "../errors";
import type { BatchEntry } from "../batch";
import { statementIdKey, type StatementId } from "../statements";
import { CountsByKey } from "../table";

/**
 * What an added signal is, for "a member adds a signal once while it is live": its submitter, type
 * and value (from the reveal); undefined for a retraction, or an add without its reveal.
 */
export function signalKeyOf(entry: BatchEntry): string | undefined {
  const body = entry.signed.statement.body!;
  if (body.$case !== "addSignal" || entry.reveal === undefined) return undefined;
  return `${entry.signed.statement.submitter}/${body.value.signalType}/${Buffer.from(entry.reveal.value).toString("hex")}`;
}

/** What a statement does, as a key: "retract:" and its target, or "add:" and signalKeyOf. */
function purposeOf(entry: BatchEntry): string | undefined {
  const body = entry.signed.statement.body!;
  if (body.$case === "retract") return `retract:${statementIdKey(body.value.target as StatementId)}`;
  const signal = signalKeyOf(entry);
  return signal === undefined ? undefined : `add:${signal}`;
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
  private readonly pending = new Map<string, BatchEntry>();
  private readonly perSubmitter = new CountsByKey();
  /** Pending statements by what they do (a retraction's target, an add's signalKeyOf): see doingTheSame. */
  private readonly byPurpose = new Map<string, Set<string>>();

  constructor(private readonly limits: MempoolLimits) {}

  get size(): number {
    return this.pending.size;
  }

  has(id: StatementId): boolean {
    return this.pending.has(statementIdKey(id));
  }

  get(id: StatementId): BatchEntry | undefined {
    return this.pending.get(statementIdKey(id));
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
    const key = statementIdKey(entry.signed.id);
    if (this.pending.has(key)) return false;
    const submitter = entry.signed.statement.submitter;
    this.checkRoom(submitter, 1);
    this.pending.set(key, entry);
    this.perSubmitter.add(submitter);
    const purpose = purposeOf(entry);
    if (purpose !== undefined) {
      const same = this.byPurpose.get(purpose) ?? new Set<string>();
      same.add(key);
      this.byPurpose.set(purpose, same);
    }
    return true;
  }

  /** Up to `count` pending statements, oldest first, left in place until removed. */
  oldest(count: number): BatchEntry[] {
    const taken: BatchEntry[] = [];
    for (const entry of this.pending.values()) {
      if (taken.length === count) break;
      taken.push(entry);
    }
    return taken;
  }

  /** The pending statements, oldest first; removing some while going through them is safe. */
  inAgeOrder(): IterableIterator<BatchEntry> {
    return this.pending.values();
  }

  /** Pending statements that do what `entry` does: retract the same entry, or add the same signal for the same member. */
  doingTheSame(entry: BatchEntry): BatchEntry[] {
    const purpose = purposeOf(entry);
    const same = purpose === undefined ? undefined : this.byPurpose.get(purpose);
    return same === undefined ? [] : [...same].map((key) => this.pending.get(key)!);
  }

  /** Drops statements that were committed or rejected. */
  remove(id: StatementId): void {
    const key = statementIdKey(id);
    const entry = this.pending.get(key);
    if (entry === undefined) return;
    this.pending.delete(key);
    const purpose = purposeOf(entry);
    if (purpose !== undefined) {
      const same = this.byPurpose.get(purpose)!;
      same.delete(key);
      if (same.size === 0) this.byPurpose.delete(purpose);
    }
    this.perSubmitter.removeOne(entry.signed.statement.submitter);
  }
}
