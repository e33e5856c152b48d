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
  /** Candidates that break a rule of the log (a duplicate, a retraction of an entry retracted...). */
  readonly rejected: readonly RejectedEntry[];
  /** Candidates that clash only with one this batch takes: see FittedCandidates. */
  readonly deferred: readonly BatchEntry[];
}

/**
 * Builds the next batch from candidates admitted earlier (their signatures and statement rules
 * already checked), in order, up to the federation's batch size. A candidate that breaks a log rule
 * is left out and reported; one that clashes only with an earlier candidate is left for later. Pure.
 */
export function buildBatch(
  federation: Federation,
  state: LogState,
  head: ChainHead,
  candidates: readonly BatchEntry[],
  meta: BatchMeta,
): BuiltBatch {
  const { accepted, rejected, deferred } = fitCandidates(federation, state, candidates);
  const batch = accepted.length === 0 ? undefined : assembleBatch(federation, head, accepted, meta);
  return { batch, rejected, deferred };
}

/** What a batch can take of its candidates. */
export interface FittedCandidates {
  readonly accepted: BatchEntry[];
  /** Candidates that break a rule of the log as it stands, alone or after the accepted ones. */
  readonly rejected: RejectedEntry[];
  /**
   * Candidates that only clash with an accepted one (a second retraction of one entry, a repeated
   * statement): left for a later batch, against which they are judged once the one accepted has
   * committed or not. Refusing them now would tell a submitter "already retracted" before any
   * retraction of the entry is on the log.
   */
  readonly deferred: BatchEntry[];
}

/**
 * The candidates a batch would hold, in order, up to the federation's batch size, those that break
 * a log rule given the entries before them, and those left for later; nothing is assembled. Pure.
 */
export function fitCandidates(federation: Federation, state: LogState, candidates: Iterable<BatchEntry>): FittedCandidates {
  const draft = state.draft();
  const fitted: FittedCandidates = { accepted: [], rejected: [], deferred: [] };
  for (const entry of candidates) {
    if (fitted.accepted.length === federation.parameters.batchEntriesMax) break;
    try {
      draft.check(entry.signed);
      fitted.accepted.push(entry);
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      if (draft.clashesWithDraft(entry.signed)) fitted.deferred.push(entry);
      else fitted.rejected.push({ entry, error });
    }
  }
  return fitted;
}
