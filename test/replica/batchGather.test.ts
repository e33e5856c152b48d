/**
 * Goal: the proposer of a height that has just started lets statements gather for batchGatherMs
 * before it builds the batch, so that under a steady stream one height carries what arrived in that
 * time; a statement that reaches an idle federation (its height started long ago) is proposed at once.
 * A height that ends takes its consensus timeouts with it, so dozens of heights a second leave no
 * timers behind to wake the node for nothing.
 * Method: a one-validator replica, which decides alone, on a clock the test moves by hand.
 */
import type { BatchEntry } from "../../src/batch";
import type { TimerHandle, Timers } from "../../src/replica/environment";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import { federationFixture, StatementMaker } from "../support/statements";

/** Timers on a clock that moves only when the test says. */
class ManualTimers implements Timers {
  private time = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(delayMs: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + delayMs, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Moves the clock to `time`, firing what falls due on the way, in order. */
  advanceTo(time: number): void {
    for (;;) {
      const due = [...this.pending].filter(([, timer]) => timer.at <= time).sort(([, a], [, b]) => a.at - b.at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = time;
  }
}

const GATHER_MS = 5;
const fixture = federationFixture({ validatorCount: 1 });
const validator = fixture.validators[0]!;
const maker = new StatementMaker(fixture.federation, "batch-gather");

let timers: ManualTimers;
let replica: Replica;

beforeEach(async () => {
  timers = new ManualTimers();
  replica = await Replica.open({
    federation: fixture.federation,
    signer: validator.signer,
    kv: new MemoryKeyValueStore(),
    timers,
    tuning: { batchGatherMs: GATHER_MS },
    transport: { send: () => {} },
    onFatal: (error) => {
      throw error;
    },
  });
  await settled();
});

afterEach(async () => {
  replica.close();
  await replica.idle();
});

/** Lets the replica's queue and the store's writes run out (the store completes writes in microtasks). */
async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await replica.idle();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function submit(entries: readonly BatchEntry[]): void {
  for (const committed of replica.submit(entries)) committed.catch(() => {});
}

test("statements that arrive as a height starts wait for the gathering time, then go in one batch", async () => {
  expect(replica.ledger.head.height).toBe(0n);
  submit([maker.add(validator.key)]);
  await settled();
  timers.advanceTo(GATHER_MS - 1);
  submit([maker.add(validator.key)]);
  await settled();
  expect(replica.ledger.treeSize).toBe(0n);
  timers.advanceTo(GATHER_MS);
  await settled();
  expect(replica.ledger.head.height).toBe(1n);
  expect(replica.ledger.treeSize).toBe(2n);
});

test("a statement that reaches an idle federation is proposed at once", async () => {
  timers.advanceTo(1_000);
  submit([maker.add(validator.key)]);
  await settled();
  expect(replica.ledger.head.height).toBe(1n);
  expect(replica.ledger.treeSize).toBe(1n);
});

test("a height that ends cancels its consensus timeouts; the replica's housekeeping timers stay", async () => {
  const housekeeping = timers.pendingCount;
  let time = 1_000;
  for (let height = 1n; height <= 20n; height++) {
    timers.advanceTo((time += 10));
    submit([maker.add(validator.key)]);
    await settled();
    expect(replica.ledger.head.height).toBe(height);
  }
  // Past the last gossip flush, only the housekeeping timers are left (the next height has no work,
  // so no timeouts), where each of the twenty heights had left its own timeouts of a second or more.
  timers.advanceTo(time + 1);
  await settled();
  expect(timers.pendingCount).toBe(housekeeping);
});
