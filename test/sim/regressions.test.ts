/**
 * Goal: a seed that failed once is replayed forever: fixed bugs stay fixed, and each open bug in
 * src/ still shows on its seed (so that its fix is noticed and the entry flipped to "fixed").
 * Method: every entry of regressions.json through simulate() with its recorded options.
 */
import { formatReport, simulate } from "./simulate";
import { loadRegressions, regressionMismatch } from "./regressions";
import { SEED_TIMEOUT_MS } from "./seedSuite";

const entries = loadRegressions();

test("the regression list is well formed: one entry per seed and options", () => {
  const keys = entries.map((entry) => JSON.stringify([entry.seed, entry.options]));
  expect(new Set(keys).size).toBe(keys.length);
});

describe.each(entries.map((entry) => [`seed ${entry.seed} ${JSON.stringify(entry.options)} (${entry.status}: ${entry.bug})`, entry] as const))("%s", (_title, entry) => {
  test(entry.status === "open" ? `still breaks ${entry.invariant}` : "passes", async () => {
    const result = await simulate(entry.seed, entry.options);
    const mismatch = regressionMismatch(entry, result);
    if (mismatch !== undefined) throw new Error(`${mismatch}\n${entry.note}\n${formatReport(result)}`);
  }, SEED_TIMEOUT_MS);
});
