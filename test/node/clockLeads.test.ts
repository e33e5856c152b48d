import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AssembledBatch, type BatchEntry, buildBatch } from "../../src/batch";
import { Ledger } from "../../src/ledger/ledger";
import { CLOCK_LEAD_NOTICE_INTERVAL_MS, CLOCK_LEAD_NOTICE_MS, ClockLeadNotices, clockLeads } from "../../src/node/clockLeads";
import { LogStore } from "../../src/store";
import { certificateFor, federationFixture, precommitsBy, StatementMaker, type TestMember } from "../support/statements";

/**
 * Goal: a node says in its log when committed batches carry other members' times (a proposer's
 * batch time, a submitter's statement time) ahead of its own clock, naming the members and by how
 * much, once per member per interval; with two or more validators and most of the others ahead it
 * says its own clock is the likely one. Times behind its clock (batches fetched while catching up) and its own times are
 * never named.
 * Method: a real Ledger on a LogStore in a temporary folder, seen as alpha's node of four
 * validators; batches with chosen proposer and statement times committed with three precommits;
 * the node's clock set by hand and its log lines collected.
 */

const fixture = federationFixture({ label: "clock-leads", validatorCount: 4 });
const { federation, validators, observer } = fixture;
const [alpha, bravo, charlie] = [validators[0]!, validators[1]!, validators[2]!];
const maker = new StatementMaker(federation, "clock-leads");
const NOW = 1_800_000_000_000n;
let folder: string;
let ledger: Ledger;
let clockMs = NOW;
let lines: string[];
let notices: ClockLeadNotices;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-clock-leads-test-"));
  const store = await LogStore.open(folder);
  await store.bindFederation(federation.id);
  ledger = await Ledger.open(federation, store);
  clockMs = NOW;
  lines = [];
  notices = new ClockLeadNotices(ledger, federation, alpha.name, { nowMs: () => clockMs }, (line) => lines.push(line));
});

afterEach(async () => {
  notices.stop();
  await ledger.store.close();
  await rm(folder, { recursive: true, force: true });
});

/** A batch on the ledger's head proposed by `proposer` at `proposerTimeMs`, of one statement per submitter at its time. */
function batchOf(proposer: string, proposerTimeMs: bigint, statements: readonly [TestMember, bigint][]): AssembledBatch {
  const candidates: BatchEntry[] = statements.map(([submitter, createdAtMs]) => maker.add(submitter.key, { context: { createdAtMs } }));
  const { batch, rejected } = buildBatch(federation, ledger.state, ledger.head, candidates, { proposer, proposerTimeMs });
  expect(rejected).toEqual([]);
  return batch!;
}

async function commit(batch: AssembledBatch): Promise<void> {
  await ledger.commit(batch, certificateFor(batch, precommitsBy(federation, [alpha, bravo, charlie], batch)));
}

test("clockLeads takes the largest lead per other member past the notice threshold, from the proposer's time and its statements'", () => {
  const batch = batchOf(bravo.name, NOW + 12_000n, [
    [observer, NOW + 30_000n],
    [observer, NOW + 31_500n],
    [charlie, NOW + BigInt(CLOCK_LEAD_NOTICE_MS)],
    [alpha, NOW + 60_000n],
    [bravo, NOW - 3_600_000n],
  ]);
  expect(clockLeads(batch, alpha.name, NOW)).toEqual(
    new Map([
      [bravo.name, 12_000n],
      [observer.name, 31_500n],
    ]),
  );
  expect(clockLeads(batch, alpha.name, NOW + 40_000n)).toEqual(new Map());
});

test("a proposer whose batch time is ahead is named once per interval, with both readings of the clocks", async () => {
  await commit(batchOf(bravo.name, NOW + 12_000n, [[bravo, NOW]]));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`batch 1 carries times ahead of this node's clock (${bravo.name} 12.0 s)`);
  expect(lines[0]).toContain("their clocks run fast or this node's runs slow");
  expect(lines[0]).toContain("check the clocks (NTP)");

  clockMs = NOW + 1_000n;
  await commit(batchOf(bravo.name, clockMs + 12_000n, [[bravo, clockMs]]));
  expect(lines).toHaveLength(1);

  clockMs = NOW + BigInt(CLOCK_LEAD_NOTICE_INTERVAL_MS);
  await commit(batchOf(bravo.name, clockMs + 9_000n, [[bravo, clockMs]]));
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`batch 3 carries times ahead of this node's clock (${bravo.name} 9.0 s)`);
});

test("batches behind this node's clock, as while catching up, and this node's own times are not named", async () => {
  await commit(batchOf(bravo.name, NOW - 86_400_000n, [[observer, NOW - 86_400_000n]]));
  await commit(batchOf(alpha.name, NOW + 60_000n, [[alpha, NOW + 60_000n]]));
  await commit(batchOf(charlie.name, NOW + BigInt(CLOCK_LEAD_NOTICE_MS), [[observer, NOW]]));
  expect(lines).toEqual([]);
});

test("a member's statements ahead are named even in a batch proposed on time", async () => {
  await commit(batchOf(bravo.name, NOW, [[observer, NOW + 45_000n]]));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`(${observer.name} 45.0 s)`);
});

test("with two or more validators and most of the others ahead, the node says its own clock is most likely slow", async () => {
  // One fast validator, or a Byzantine one's made-up time, must not make every other node blame its own clock.
  await commit(batchOf(bravo.name, NOW + 20_000n, [[bravo, NOW]]));
  expect(lines[0]).toContain("their clocks run fast or this node's runs slow");
  await commit(batchOf(charlie.name, NOW + 20_000n, [[charlie, NOW]]));
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`(${charlie.name} 20.0 s)`);
  expect(lines[1]).toContain("2 of the 3 other validators are ahead: this node's clock is most likely slow");
});

test("after its clock is set back, the node names a member again rather than keeping quiet until the clock returns", async () => {
  await commit(batchOf(bravo.name, NOW + 12_000n, [[bravo, NOW]]));
  clockMs = NOW - 3_600_000n;
  await commit(batchOf(bravo.name, clockMs + 12_000n, [[bravo, clockMs]]));
  expect(lines).toHaveLength(2);
});

test("a stopped node says nothing more", async () => {
  notices.stop();
  await commit(batchOf(bravo.name, NOW + 12_000n, [[bravo, NOW]]));
  expect(lines).toEqual([]);
});
