/**
 * Goal: the consensus core follows Algorithm 1 and handles every erratum and edge case of
 * reference/consensus.md §1.4, each shown in a readable scenario.
 * Method: each file in test/consensus/scenarios is run block by block against one core; the
 * outputs must equal the file's. HASHFED_REWRITE=1 rewrites the files from the actual outputs.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatScenario, parseScenario, runScenario } from "./scenarioRunner";

const folder = join(__dirname, "scenarios");
const files = readdirSync(folder).filter((name) => name.endsWith(".txt")).sort();

test("the scenario folder holds the scenarios", () => {
  expect(files.length).toBeGreaterThanOrEqual(12);
});

describe.each(files)("%s", (file) => {
  test("produces the outputs written in the file", () => {
    const text = readFileSync(join(folder, file), "utf8");
    const blocks = parseScenario(text);
    const outputs = runScenario(blocks);
    if (process.env.HASHFED_REWRITE === "1") writeFileSync(join(folder, file), formatScenario(blocks, outputs));
    else expect(formatScenario(blocks, outputs)).toBe(text);
  });
});
