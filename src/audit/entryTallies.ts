import { RetractReason } from "../gen/hashfed/v1/statement";
import type { SignedStatement } from "../statements";

/**
 * Counts over the log's entries, for an auditor's report: who added and retracted how much, under
 * which labels and taxonomy versions, and how retractions spread over time. Counts only: nothing
 * here discloses a hash. Days are UTC days of each statement's creation time, which is the
 * submitter's clock and informative only (the log orders entries, not clocks).
 */
export interface MemberTally {
  additions: number;
  retractions: number;
}

export interface DayTally {
  additions: number;
  retractions: number;
}

export interface EntryTallies {
  entries: number;
  additions: number;
  retractions: number;
  readonly byMember: Map<string, MemberTally>;
  /** Additions per label (an entry with two labels counts under both). */
  readonly byLabel: Map<string, number>;
  /** Additions per taxonomy version. */
  readonly byTaxonomyVersion: Map<number, number>;
  readonly bySignalType: Map<string, number>;
  readonly retractionsByReason: Map<string, number>;
  /** By "YYYY-MM-DD", or "unknown" for a creation time outside the calendar. */
  readonly byDay: Map<string, DayTally>;
}

/** The largest time a JavaScript Date can hold, in milliseconds from the epoch. */
const DATE_MS_MAX = 8_640_000_000_000_000n;

/** Retraction reasons by the names the CLI takes them in (`hashfed retract --reason`). */
export const RETRACT_REASON_NAMES: ReadonlyMap<RetractReason, string> = new Map([
  [RetractReason.RETRACT_REASON_FALSE_POSITIVE, "false-positive"],
  [RetractReason.RETRACT_REASON_OUT_OF_TAXONOMY, "out-of-taxonomy"],
  [RetractReason.RETRACT_REASON_APPEAL_UPHELD, "appeal-upheld"],
  [RetractReason.RETRACT_REASON_DUPLICATE, "duplicate"],
  [RetractReason.RETRACT_REASON_OTHER, "other"],
]);

export function emptyTallies(): EntryTallies {
  return {
    entries: 0,
    additions: 0,
    retractions: 0,
    byMember: new Map(),
    byLabel: new Map(),
    byTaxonomyVersion: new Map(),
    bySignalType: new Map(),
    retractionsByReason: new Map(),
    byDay: new Map(),
  };
}

/** Counts one entry that the replay accepted. */
export function countEntry(tallies: EntryTallies, signed: SignedStatement): void {
  const { statement } = signed;
  const body = statement.body!;
  const member = tallies.byMember.get(statement.submitter) ?? { additions: 0, retractions: 0 };
  tallies.byMember.set(statement.submitter, member);
  const dayKey = day(statement.createdAtMs);
  const dayTally = tallies.byDay.get(dayKey) ?? { additions: 0, retractions: 0 };
  tallies.byDay.set(dayKey, dayTally);
  tallies.entries++;
  if (body.$case === "addSignal") {
    tallies.additions++;
    member.additions++;
    dayTally.additions++;
    for (const label of body.value.labels) increment(tallies.byLabel, label);
    increment(tallies.byTaxonomyVersion, body.value.taxonomyVersion);
    increment(tallies.bySignalType, body.value.signalType);
  } else {
    tallies.retractions++;
    member.retractions++;
    dayTally.retractions++;
    increment(tallies.retractionsByReason, RETRACT_REASON_NAMES.get(body.value.reason) ?? "unknown");
  }
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Formatted days by day number: formatting a date costs more than the rest of counting an entry. */
const dayNames = new Map<number, string>();
const DAY_MS = 86_400_000;
/** Enough for every day of a few decades of statements; past it, days are formatted each time. */
const DAY_NAMES_MAX = 16_384;

function day(createdAtMs: bigint): string {
  if (createdAtMs > DATE_MS_MAX) return "unknown";
  const dayNumber = Math.floor(Number(createdAtMs) / DAY_MS);
  let name = dayNames.get(dayNumber);
  if (name === undefined) {
    name = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
    if (dayNames.size < DAY_NAMES_MAX) dayNames.set(dayNumber, name);
  }
  return name;
}
