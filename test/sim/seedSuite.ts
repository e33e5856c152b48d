import { findRegression, loadRegressions } from "./regressions";
import { formatReport, type SimulateOptions, simulate } from "./simulate";

/** A seed's run, liveness phase included, takes a few seconds at worst; a stuck one ends at the liveness bound. */
export const SEED_TIMEOUT_MS = 120_000;

/**
 * One test per seed in [from, from + count) with these options. A failing seed throws its whole
 * report (seed, faults, violations, the replicas' states, trace tail), reproducible with the command
 * it prints. Seeds listed in regressions.json with these options are left to regressions.test.ts.
 */
export function describeSeeds(title: string, options: SimulateOptions, from: number, count: number): void {
  const regressions = loadRegressions();
  const seeds = Array.from({ length: count }, (_, i) => from + i);
  const known = seeds.filter((seed) => findRegression(regressions, seed, options) !== undefined);
  const suffix = known.length === 0 ? "" : ` (${known.join(", ")}: known regressions, replayed by regressions.test.ts)`;
  describe(`${title}, seeds ${from}..${from + count - 1}${suffix}`, () => {
    for (const seed of seeds) {
      if (known.includes(seed)) continue;
      test(`seed ${seed}`, async () => {
        const result = await simulate(seed, options);
        if (!result.ok) throw new Error(formatReport(result));
      }, SEED_TIMEOUT_MS);
    }
  });
}
