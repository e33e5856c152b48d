import { assert } from "../assert";
import { HashfedError } from "../errors";
import type { Federation, Member } from "../federation";
import { CompactRange, hashLeaf, type LeafRange } from "../log";
import { LogState } from "../state/logState";
import { checkStatementRules, parseLogEntryLeaf, signatureInvalid, type SignedStatement } from "../statements";
import type { HashSeed } from "../table";
import { countEntry, emptyTallies, type EntryTallies } from "./entryTallies";

/** The most entries a replay holds in memory: the log state's columns are indexed by 32-bit numbers. */
export const REPLAY_ENTRIES_MAX = 0xffff_fffen;
/** Enough room reserved up front for logs of tens of millions of entries. */
const REPLAY_RESERVED_MAX = 1n << 25n;

/** An entry that breaks a rule, with its log index, so that the shell can find out whose fault it is. */
export class EntryError extends HashfedError {
  constructor(
    readonly index: bigint,
    readonly reason: HashfedError,
  ) {
    super(reason.kind, reason.code, `entry ${index}: ${reason.message}`);
    this.name = "EntryError";
  }
}

/** A run of consecutive entries parsed and checked on their own, waiting for their signature checks. */
export interface PreparedEntries {
  /** The log index of the first entry. */
  readonly start: bigint;
  readonly statements: readonly SignedStatement[];
  /** The submitter of each statement, a member of the federation. */
  readonly submitters: readonly Member[];
  readonly leafHashes: readonly Buffer[];
}

/**
 * Replaying a log as an auditor does: every entry parsed strictly, bound to the federation,
 * submitted by a member under the statement rules, its signature valid, the log's own rules kept
 * (no statement twice, a retraction withdraws a live entry of its own submitter), every leaf
 * hashed into a running compact range, so the root at any size reached is known. Pure: the shell
 * fetches entries and checks signatures (in bulk, on worker threads), in between `prepare`, which
 * needs nothing of the replay so far and may run ahead, and `apply`, which takes runs in log order.
 * Every failure of an entry is an EntryError naming its log index.
 */
export class LogReplay {
  private readonly range = CompactRange.empty();
  private readonly state: LogState;
  readonly tallies: EntryTallies = emptyTallies();

  /** `seed` keys the statement id table (see LogState); the shell passes a secret random one. */
  constructor(
    private readonly federation: Federation,
    seed: HashSeed,
  ) {
    this.state = new LogState(seed);
  }

  /** The number of entries replayed. */
  get size(): bigint {
    return this.range.size;
  }

  /** The root of the tree of the entries replayed. */
  root(): Buffer {
    return this.range.root();
  }

  /**
   * Makes room for `count` entries in all, before a replay of known size; past REPLAY_RESERVED_MAX
   * the tables grow as entries come, so a checkpoint claiming a huge size allocates nothing up front.
   */
  reserve(count: bigint): void {
    this.state.reserve(Number(count < REPLAY_RESERVED_MAX ? count : REPLAY_RESERVED_MAX));
  }

  /** Parses the leaves of entries [start, start + leaves.length) and checks what each says on its own. */
  prepare(start: bigint, leaves: readonly Buffer[]): PreparedEntries {
    const statements: SignedStatement[] = [];
    const submitters: Member[] = [];
    const leafHashes: Buffer[] = [];
    leaves.forEach((leaf, position) => {
      try {
        const signed = parseLogEntryLeaf(leaf);
        submitters.push(checkStatementRules(this.federation, signed));
        statements.push(signed);
        leafHashes.push(hashLeaf(signed.entryBytes));
      } catch (error) {
        throw entryError(start + BigInt(position), error);
      }
    });
    return { start, statements, submitters, leafHashes };
  }

  /**
   * Appends prepared entries, which must start where the replay stands, given whether each one's
   * signature verified. Every signature is looked at before anything is appended; then each entry
   * is checked against the log so far and appended, so on a broken rule the replay stands just
   * before the entry that broke it, and the message names the log index of what it conflicts with.
   */
  apply(prepared: PreparedEntries, signaturesValid: ArrayLike<boolean | number>): void {
    assert(prepared.start === this.size, `entries from ${prepared.start} applied to a replay of ${this.size}`);
    assert(signaturesValid.length === prepared.statements.length, "one signature result per entry");
    prepared.statements.forEach((_, position) => {
      if (!signaturesValid[position]) throw new EntryError(prepared.start + BigInt(position), signatureInvalid(prepared.submitters[position]!));
    });
    // One draft for the run; each entry is appended as soon as it passes, so the state already
    // holds it when the next is checked and every conflict is reported at a log index.
    const draft = this.state.draft();
    prepared.statements.forEach((signed, position) => {
      try {
        draft.check(signed);
      } catch (error) {
        throw entryError(prepared.start + BigInt(position), error);
      }
      this.state.append(signed);
      this.range.appendLeaf(prepared.leafHashes[position]!);
      countEntry(this.tallies, signed);
    });
  }
}

function entryError(index: bigint, error: unknown): unknown {
  return error instanceof HashfedError ? new EntryError(index, error) : error;
}

/**
 * The runs in which a replay of entries [from, to) is fetched and checked, in order: each at most
 * `lengthMax` entries long, and one ending at each size in `stops` that lies inside (from, to), so
 * that the replay's root is known at every checkpoint size it passes.
 */
export function replayRuns(from: bigint, to: bigint, stops: Iterable<bigint>, lengthMax: bigint): LeafRange[] {
  assert(lengthMax > 0n, "a run holds at least one entry");
  const ends = [...new Set([...stops].filter((stop) => stop > from && stop < to))].sort((a, b) => (a < b ? -1 : 1));
  ends.push(to);
  const runs: LeafRange[] = [];
  let start = from;
  for (const end of ends) {
    while (start < end) {
      const runEnd = end - start > lengthMax ? start + lengthMax : end;
      runs.push({ start, end: runEnd });
      start = runEnd;
    }
  }
  return runs;
}
