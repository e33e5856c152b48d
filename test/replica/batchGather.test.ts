/**
 * Goal: the proposer of a height that has just started lets statements gather for batchGatherMs
 * before it builds the batch, so that under a steady stream one height carries what arrived in that
 * time; a statement that reaches an idle federation (its height started long ago) is proposed at once.
 * A height that ends takes its consensus timeouts with it, so dozens of heights a second leave no
 * timers behind to wake the node for nothing.
 * Method: a one-validator replica, which decides alone, on a clock the test moves by hand.
 */
import type { BatchEntry } from "../../src/batch";
import type { Replica } from "../../src/replica/replica";
import { ManualTimers } from "../support/manualTimers";
import { openReplica, settled } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const GATHER_MS = 5;
const fixture = federationFixture({ validatorCount: 1 });
const validator = fixture.validators[0]!;
const maker = new StatementMaker(fixture.federation, "batch-gather");

let timers: ManualTimers;
let replica: Replica;

beforeEach(async () => {
  timers = new ManualTimers();
  replica = await openReplica({
    federation: fixture.federation,
    signer: validator.signer,
    timers,
    tuning: { batchGatherMs: GATHER_MS },
    transport: { send: () => {} },
  });
  await settled(replica);
});

afterEach(async () => {
  replica.close();
  await replica.idle();
});

function submit(entries: readonly BatchEntry[]): void {
  for (const committed of replica.submit(entries)) committed.catch(() => {});
}

test("statements that arrive as a height starts wait for the gathering time, then go in one batch", async () => {
  expect(replica.ledger.head.height).toBe(0n);
  submit([maker.add(validator.key)]);
  await settled(replica);
  timers.advanceTo(GATHER_MS - 1);
  submit([maker.add(validator.key)]);
  await settled(replica);
  expect(replica.ledger.treeSize).toBe(0n);
  timers.advanceTo(GATHER_MS);
  await settled(replica);
  expect(replica.ledger.head.height).toBe(1n);
  expect(replica.ledger.treeSize).toBe(2n);
});

test("a statement that reaches an idle federation is proposed at once", async () => {
  timers.advanceTo(1_000);
  submit([maker.add(validator.key)]);
  await settled(replica);
  expect(replica.ledger.head.height).toBe(1n);
  expect(replica.ledger.treeSize).toBe(1n);
});

test("a height that ends cancels its consensus timeouts; the replica's housekeeping timers stay", async () => {
  const housekeeping = timers.pendingCount;
  let time = 1_000;
  for (let height = 1n; height <= 20n; height++) {
    timers.advanceTo((time += 10));
    submit([maker.add(validator.key)]);
    await settled(replica);
    expect(replica.ledger.head.height).toBe(height);
  }
  // Past the last gossip flush, only the housekeeping timers are left (the next height has no work,
  // so no timeouts), where each of the twenty heights had left its own timeouts of a second or more.
  timers.advanceTo(time + 1);
  await settled(replica);
  expect(timers.pendingCount).toBe(housekeeping);
});
