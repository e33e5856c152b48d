import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BatchEntry, buildBatch } from "../../src/batch";
import { PENDING_SCAN_MAX } from "../../src/index/pdqMultiIndex";
import { Ledger } from "../../src/ledger/ledger";
import { MatchIndexing } from "../../src/node/matchIndexing";
import { LogStore } from "../../src/store";
import { certificateFor, federationFixture, precommitsBy, StatementMaker } from "../support/statements";

/**
 * Goal: a running node indexes the PDQ hashes it commits by itself, between other work, so that
 * matches probe the multi-index instead of scanning a growing list; and it stops when the node stops.
 * Method: a real Ledger on a LogStore in a temporary folder; batches of PDQ additions committed with
 * a validator's precommit; the index's count of hashes in no level read before and after turns of
 * the event loop.
 */

const fixture = federationFixture({ label: "match-indexing" });
const { federation } = fixture;
const alpha = fixture.validators[0]!;
const meta = { proposer: alpha.name, proposerTimeMs: 1_700_000_000_000n };
const maker = new StatementMaker(federation, "match-indexing");
let folder: string;
let ledger: Ledger;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-indexing-test-"));
  const store = await LogStore.open(folder);
  await store.bindFederation(federation.id);
  ledger = await Ledger.open(federation, store);
});

afterAll(async () => {
  await ledger?.store.close();
  await rm(folder, { recursive: true, force: true });
});

async function commitPdqAdditions(count: number): Promise<void> {
  const candidates: BatchEntry[] = Array.from({ length: count }, () => maker.add(alpha.key, { signalType: "pdq" }));
  const { batch, rejected } = buildBatch(federation, ledger.state, ledger.head, candidates, meta);
  expect(rejected).toEqual([]);
  await ledger.commit(batch!, certificateFor(batch!, precommitsBy(federation, [alpha], batch!)));
}

const turns = async (count: number): Promise<void> => {
  for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
};

test("hashes committed past the scan limit are indexed on later turns of the event loop, not by the commit", async () => {
  const indexing = new MatchIndexing(ledger);
  try {
    await commitPdqAdditions(PENDING_SCAN_MAX + 50);
    expect(ledger.index.pdqUnindexed).toBe(PENDING_SCAN_MAX + 50);
    await turns(20);
    expect(ledger.index.pdqUnindexed).toBe(0);
  } finally {
    indexing.stop();
  }
});

test("after stop, commits are no longer indexed", async () => {
  const indexing = new MatchIndexing(ledger);
  indexing.stop();
  await commitPdqAdditions(PENDING_SCAN_MAX + 10);
  await turns(20);
  expect(ledger.index.pdqUnindexed).toBe(PENDING_SCAN_MAX + 10);
  indexing.catchUp();
  expect(ledger.index.pdqUnindexed).toBe(0);
});
