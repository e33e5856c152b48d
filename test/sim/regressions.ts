import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { InvariantName } from "./invariants";
import type { SimulateOptions, SimulationResult } from "./simulate";

/**
 * Seeds that once failed, kept forever (regressions.json beside this file), replayed by
 * regressions.test.ts. Each entry names the options the seed ran with (a seed means something only
 * with them) and the invariant it broke.
 *
 * - status "open": the bug is in src/ and not fixed yet. The seed must still fail with that
 *   invariant; when it passes, look at the fix (or at what changed the run) and set "fixed".
 * - status "fixed": the seed must pass.
 *
 * The seed suites leave out the seeds listed here, so that a known bug fails one test, here.
 */
export interface RegressionEntry {
  readonly seed: number;
  readonly options: SimulateOptions;
  readonly invariant: InvariantName;
  readonly status: "open" | "fixed";
  /** The bug's short name, shared by the entries it explains. */
  readonly bug: string;
  readonly note: string;
}

interface RegressionFile {
  readonly entries: readonly RegressionEntry[];
}

const FILE = join(__dirname, "regressions.json");

export function loadRegressions(): readonly RegressionEntry[] {
  return (JSON.parse(readFileSync(FILE, "utf8")) as RegressionFile).entries;
}

/** The entry for this seed and options, if the seed is a known regression. */
export function findRegression(entries: readonly RegressionEntry[], seed: number, options: SimulateOptions): RegressionEntry | undefined {
  return entries.find((entry) => entry.seed === seed && sameOptions(entry.options, options));
}

function sameOptions(a: SimulateOptions, b: SimulateOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((key) => key !== "traceLines" && key !== "verbose")) as Set<keyof SimulateOptions>;
  return [...keys].every((key) => a[key] === b[key]);
}

/** What the replay of `entry` must show, or undefined when it does. */
export function regressionMismatch(entry: RegressionEntry, result: SimulationResult): string | undefined {
  const broken = result.violations.some((violation) => violation.invariant === entry.invariant);
  if (entry.status === "fixed") return result.ok ? undefined : "this seed was fixed and fails again";
  if (broken) return undefined;
  return result.ok
    ? `known bug "${entry.bug}" no longer shows on this seed: if src/ fixed it, set its status to "fixed"; if the simulator changed the run, find a new seed`
    : `known bug "${entry.bug}" was expected (${entry.invariant}), another invariant broke`;
}
