import { HashfedError } from "../errors";
import type { Federation } from "../federation";
import type { LogState } from "../state/logState";
import { type AssembledBatch, assembleBatch, type BatchEntry, type BatchMeta } from "./assembleBatch";
import type { ChainHead } from "./chainHead";

export interface RejectedEntry {
  readonly entry: BatchEntry;
  readonly error: HashfedError;
}

export interface BuiltBatch {
  /** Undefined when no candidate could be appended: there is nothing to commit. */
  readonly batch: AssembledBatch | undefined;
  /** Candidates that break a rule of the log as it will stand (a duplicate, a retraction twice...). */
  readonly rejected: readonly RejectedEntry[];
}

/**
 * Builds the next batch from candidates admitted earlier (their signatures and statement rules
 * already checked), in order, up to the federation's batch size. A candidate that breaks a log rule
 * given the entries before it is left out and reported. Pure.
 */
export function buildBatch(
  federation: Federation,
  state: LogState,
  head: ChainHead,
  candidates: readonly BatchEntry[],
  meta: BatchMeta,
): BuiltBatch {
  const { accepted, rejected } = fitCandidates(federation, state, candidates);
  const batch = accepted.length === 0 ? undefined : assembleBatch(federation, head, accepted, meta);
  return { batch, rejected };
}

/**
 * The candidates a batch would hold, in order, up to the federation's batch size, and those that
 * break a log rule given the entries before them; nothing is assembled. Pure.
 */
export function fitCandidates(federation: Federation, state: LogState, candidates: readonly BatchEntry[]): { accepted: BatchEntry[]; rejected: RejectedEntry[] } {
  const draft = state.draft();
  const accepted: BatchEntry[] = [];
  const rejected: RejectedEntry[] = [];
  for (const entry of candidates) {
    if (accepted.length === federation.parameters.batchEntriesMax) break;
    try {
      draft.check(entry.signed);
      accepted.push(entry);
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      rejected.push({ entry, error });
    }
  }
  return { accepted, rejected };
}
