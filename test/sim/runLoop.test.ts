import { EventQueue } from "./eventQueue";
import { SimNetwork } from "./network";
import { Prng } from "./prng";
import { runUntil } from "./runLoop";
import { Trace } from "./trace";
import { VirtualTimers } from "./virtualTimers";

/**
 * Goal: runUntil drives asynchronous code in virtual time deterministically: every promise chain an
 * event starts runs as far as it can before the next event, even one at the same instant; the
 * same seed gives the same event sequence; it stops for the documented reasons.
 * Method: fake async nodes whose handlers await a simulated disk (a promise resolved by a queue
 * event), extra microtasks and nested immediates, then send over a faulty SimNetwork and set
 * virtual timers; two runs of one seed must give one trace hash.
 */

function newQueue(): EventQueue {
  return new EventQueue({ eventsPendingMax: 100_000 });
}

/** A disk whose writes become durable after a seeded delay, through the queue. */
class FakeDisk {
  constructor(
    private readonly queue: EventQueue,
    private readonly node: string,
    private readonly prng: Prng,
  ) {}

  write(): Promise<void> {
    const delayMs = this.prng.int(0, 200) / 100;
    return new Promise<void>((resolve) => this.queue.schedule(this.queue.now + delayMs, "disk write done", resolve, this.node));
  }
}

/** Microtask hops, standing in for the many awaits of real code. */
async function hops(count: number): Promise<void> {
  for (let index = 0; index < count; index++) await Promise.resolve();
}

/**
 * A node that, on each message, persists it, then forwards a counter to a random peer and arms a
 * timer that re-sends if nothing arrived meanwhile: enough await points, network faults and timers
 * for any nondeterminism in the loop to show up in the trace.
 */
class FakeNode {
  received = 0;
  private retry: { id: number } | undefined;

  constructor(
    readonly name: string,
    private readonly peers: readonly string[],
    private readonly queue: EventQueue,
    private readonly network: SimNetwork,
    private readonly timers: VirtualTimers,
    private readonly disk: FakeDisk,
    private readonly prng: Prng,
    private readonly trace: Trace,
  ) {}

  async onMessage(from: string, bytes: Uint8Array): Promise<void> {
    const counter = Buffer.from(bytes).readUInt32BE(0);
    this.received++;
    await hops(this.prng.int(0, 5));
    await this.disk.write();
    this.trace.record(this.queue.now, this.name, `persisted ${counter} from ${from}`);
    // Real code should defer only through the queue; an immediate here checks that settling tolerates it.
    if (this.prng.chance(0.3)) await new Promise<void>((resolve) => setImmediate(resolve));
    await hops(2);
    this.forward(counter + 1);
  }

  forward(counter: number): void {
    const target = this.prng.pick(this.peers);
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(counter);
    this.network.send(this.name, target, bytes);
    if (this.retry !== undefined) this.timers.clearTimeout(this.retry);
    const receivedAtSend = this.received;
    this.retry = this.timers.setTimeout(30, () => {
      if (this.received === receivedAtSend) this.forward(counter);
    });
  }
}

/** Runs three fake nodes from one seed until 200 messages were received; returns the trace hash. */
async function scenario(seed: number): Promise<string> {
  const root = new Prng(seed);
  const queue = newQueue();
  const trace = new Trace(64);
  trace.attach(queue);
  const names = ["n1", "n2", "n3"];
  const nodes = new Map<string, FakeNode>();
  const network = new SimNetwork({
    queue,
    prng: root.fork("network"),
    nodes: names,
    faults: { delayMinMs: 1, delayMeanMs: 3, delayMaxMs: 12, dropRate: 0.1, duplicateRate: 0.2 },
    linkInFlightMax: 1_000,
    deliver: (to, from, bytes) => void nodes.get(to)?.onMessage(from, bytes),
  });
  for (const name of names) {
    const disk = new FakeDisk(queue, name, root.fork(`disk:${name}`));
    const peers = names.filter((other) => other !== name);
    nodes.set(name, new FakeNode(name, peers, queue, network, new VirtualTimers(queue, name), disk, root.fork(`node:${name}`), trace));
  }
  for (const node of nodes.values()) node.forward(0);
  const total = (): number => [...nodes.values()].reduce((sum, node) => sum + node.received, 0);
  const result = await runUntil(queue, () => total() >= 200, 60_000);
  expect(result.reason).toBe("condition");
  return `${trace.hash} ${trace.count} ${result.nowMs} ${network.describeCounters()}`;
}

describe("runUntil", () => {
  test("the same seed gives the same event sequence with async nodes; another seed does not", async () => {
    const first = await scenario(31);
    expect(await scenario(31)).toBe(first);
    expect(await scenario(32)).not.toBe(first);
  });

  test("an event's promise chain, nested immediates included, settles before the next event at the same instant", async () => {
    const queue = newQueue();
    const order: string[] = [];
    queue.schedule(5, "a", () => {
      void (async () => {
        await hops(50);
        order.push("a: microtasks done");
        for (let index = 0; index < 3; index++) await new Promise<void>((resolve) => setImmediate(resolve));
        order.push("a: immediates done");
        process.nextTick(() => order.push("a: next tick"));
      })();
    });
    queue.schedule(5, "b", () => order.push("b"));
    const result = await runUntil(queue, () => false, 100);
    expect(result).toEqual({ reason: "idle", nowMs: 5, eventsRun: 2 });
    expect(order).toEqual(["a: microtasks done", "a: immediates done", "a: next tick", "b"]);
  });

  test("a chain waiting on a queue-backed promise resumes at that event's virtual time", async () => {
    const queue = newQueue();
    const timers = new VirtualTimers(queue, "n1");
    const times: number[] = [];
    const sleep = (delayMs: number): Promise<void> => new Promise((resolve) => timers.setTimeout(delayMs, resolve));
    void (async () => {
      times.push(timers.now());
      await sleep(10);
      times.push(timers.now());
      await sleep(0);
      await sleep(2.5);
      times.push(timers.now());
    })();
    await runUntil(queue, () => false, 100);
    expect(times).toEqual([0, 10, 12.5]);
  });

  test("stops for the condition, the time limit, an empty queue and the event budget", async () => {
    const queue = newQueue();
    let ran = 0;
    for (let index = 1; index <= 10; index++) queue.schedule(index * 10, "tick", () => ran++);
    expect(await runUntil(queue, () => ran >= 3, 1_000)).toEqual({ reason: "condition", nowMs: 30, eventsRun: 3 });
    expect(await runUntil(queue, () => false, 55)).toEqual({ reason: "limit", nowMs: 50, eventsRun: 2 });
    expect(await runUntil(queue, () => false, 1_000, { eventsMax: 2 })).toEqual({ reason: "eventBudget", nowMs: 70, eventsRun: 2 });
    const afterEach: number[] = [];
    expect(await runUntil(queue, () => false, 1_000, { afterEvent: () => afterEach.push(queue.now) })).toEqual({ reason: "idle", nowMs: 100, eventsRun: 3 });
    expect(afterEach).toEqual([80, 90, 100]);
    expect(await runUntil(queue, () => true, 1_000)).toEqual({ reason: "condition", nowMs: 100, eventsRun: 0 });
  });

  test("an exception in an event or a checker propagates, and the queue can be driven again", async () => {
    const queue = newQueue();
    queue.schedule(1, "boom", () => {
      throw new Error("boom");
    });
    queue.schedule(2, "fine", () => undefined);
    await expect(runUntil(queue, () => false, 10)).rejects.toThrow("boom");
    await expect(runUntil(queue, () => false, 10, { afterEvent: () => { throw new Error("invariant broken"); } })).rejects.toThrow("invariant broken");
    expect(queue.now).toBe(2);
  });

  test("code that keeps queueing immediates is reported as unsettled", async () => {
    const queue = newQueue();
    let polling = true;
    const poll = (): void => {
      if (polling) setImmediate(poll);
    };
    queue.schedule(1, "start polling", poll);
    const result = await runUntil(queue, () => false, 10, { settleRoundsMax: 20 });
    polling = false;
    expect(result).toEqual({ reason: "unsettled", nowMs: 1, eventsRun: 1 });
  });

  test("real timers started by the code under simulation fail the run", async () => {
    const queue = newQueue();
    const realTimers: NodeJS.Timeout[] = [];
    queue.schedule(1, "uses real timers", () => {
      // The breach under test: the only real timers in test/sim outside the harness, cleared below.
      // The guard counts the process's timers, so one of jest's own ending during the run had hidden
      // a single new one (seen once in CI): eight of them ending within the run would be needed now.
      for (let i = 0; i < 8; i++) realTimers.push(setTimeout(() => undefined, 60_000));
    });
    try {
      await expect(runUntil(queue, () => false, 10, { detectRealAsync: true })).rejects.toThrow(/real asynchronous work \(Timeout \d+ -> \d+\) at virtual time 1ms/);
    } finally {
      realTimers.forEach(clearTimeout);
    }
  });

  test("two runs cannot drive one queue at once", async () => {
    const queue = newQueue();
    queue.schedule(1, "tick", () => undefined);
    const first = runUntil(queue, () => false, 10);
    await expect(runUntil(queue, () => false, 10)).rejects.toThrow(/already driving/);
    await first;
  });
});
