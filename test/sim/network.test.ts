import { EventQueue } from "./eventQueue";
import { type LinkFaults, SimNetwork } from "./network";
import { Prng } from "./prng";
import { Trace } from "./trace";

/**
 * Goal: the simulated network delivers, loses, duplicates and delays messages exactly as its fault
 * parameters say, cuts exactly the directions a partition names, drops what arrives at a down node
 * or over a cut link, and gives the same deliveries for the same seed.
 * Method: four nodes, messages tagged with a serial number, every delivery recorded with its
 * virtual time; counters checked against the conservation law sent + duplicated = delivered +
 * dropped + in flight.
 */

const NODES = ["n1", "n2", "n3", "n4"];
const RELIABLE: LinkFaults = { delayMinMs: 1, delayMeanMs: 3, delayMaxMs: 20, dropRate: 0, duplicateRate: 0 };

interface Delivery {
  readonly to: string;
  readonly from: string;
  readonly serial: number;
  readonly atMs: number;
}

function setUp(faults: LinkFaults, seed = 1, linkInFlightMax = 10_000): { queue: EventQueue; network: SimNetwork; deliveries: Delivery[]; trace: Trace } {
  const queue = new EventQueue({ eventsPendingMax: 1_000_000 });
  const deliveries: Delivery[] = [];
  const trace = new Trace(16);
  const network = new SimNetwork({
    queue,
    prng: new Prng(seed).fork("network"),
    nodes: NODES,
    faults,
    linkInFlightMax,
    deliver: (to, from, bytes) => {
      const serial = Buffer.from(bytes).readUInt32BE(0);
      deliveries.push({ to, from, serial, atMs: queue.now });
      trace.record(queue.now, to, `from ${from} #${serial}`);
    },
  });
  return { queue, network, deliveries, trace };
}

function message(serial: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(serial);
  return bytes;
}

/** Sends `count` messages on every directed link; returns the serial -> (from, to) map. */
function sendAll(network: SimNetwork, count: number): Map<number, [string, string]> {
  const sent = new Map<number, [string, string]>();
  for (let round = 0; round < count; round++) {
    for (const from of NODES) {
      for (const to of NODES) {
        if (from === to) continue;
        const serial = sent.size;
        sent.set(serial, [from, to]);
        network.send(from, to, message(serial));
      }
    }
  }
  return sent;
}

function runAll(queue: EventQueue): void {
  while (queue.runNext());
}

function expectConserved(network: SimNetwork): void {
  const c = network.counters;
  expect(c.sent + c.duplicated).toBe(c.delivered + c.droppedLoss + c.droppedPartition + c.droppedDown + c.droppedOverflow + c.inFlight);
}

describe("SimNetwork", () => {
  test("with no loss and no duplication every message arrives exactly once, at the right node, within [min, max]", () => {
    const { queue, network, deliveries } = setUp(RELIABLE);
    const sent = sendAll(network, 50);
    runAll(queue);
    expect(deliveries).toHaveLength(sent.size);
    expect(new Set(deliveries.map((delivery) => delivery.serial)).size).toBe(sent.size);
    const misrouted = deliveries.filter((delivery) => sent.get(delivery.serial)?.join("->") !== `${delivery.from}->${delivery.to}`);
    expect(misrouted).toEqual([]);
    const delays = deliveries.map((delivery) => delivery.atMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(RELIABLE.delayMinMs);
    expect(Math.max(...delays)).toBeLessThanOrEqual(RELIABLE.delayMaxMs);
    expect(network.counters).toMatchObject({ sent: sent.size, delivered: sent.size, duplicated: 0, droppedLoss: 0, inFlight: 0 });
    expectConserved(network);
  });

  test("independent delays reorder messages on a link, and a long tail is capped at delayMaxMs", () => {
    const faults: LinkFaults = { delayMinMs: 2, delayMeanMs: 10, delayMaxMs: 15, dropRate: 0, duplicateRate: 0 };
    const { queue, network, deliveries } = setUp(faults);
    for (let serial = 0; serial < 500; serial++) network.send("n1", "n2", message(serial));
    runAll(queue);
    const serials = deliveries.map((delivery) => delivery.serial);
    expect(serials).not.toEqual([...serials].sort((a, b) => a - b));
    const atMax = deliveries.filter((delivery) => delivery.atMs === faults.delayMaxMs).length;
    // P(2 + exp(10) > 15) = e^-1.3 ≈ 0.27 of 500 messages land exactly on the cap.
    expect(atMax).toBeGreaterThan(80);
    expect(Math.min(...deliveries.map((delivery) => delivery.atMs))).toBeGreaterThanOrEqual(2);
  });

  test("with drop rate 1 nothing arrives", () => {
    const { queue, network, deliveries } = setUp({ ...RELIABLE, dropRate: 1, duplicateRate: 1 });
    const sent = sendAll(network, 20);
    runAll(queue);
    expect(deliveries).toHaveLength(0);
    expect(network.counters).toMatchObject({ sent: sent.size, droppedLoss: sent.size, duplicated: 0 });
    expectConserved(network);
  });

  test("a drop rate loses about that share of messages", () => {
    const { queue, network, deliveries } = setUp({ ...RELIABLE, dropRate: 0.3 });
    const sent = sendAll(network, 500);
    runAll(queue);
    // 6,000 messages; standard deviation of the losses ≈ 35.
    expect(Math.abs(network.counters.droppedLoss - 0.3 * sent.size)).toBeLessThan(250);
    expect(deliveries.length).toBe(sent.size - network.counters.droppedLoss);
    expectConserved(network);
  });

  test("duplication delivers a second copy with its own delay; rate 1 doubles everything", () => {
    const { queue, network, deliveries } = setUp({ ...RELIABLE, duplicateRate: 1 });
    const sent = sendAll(network, 30);
    runAll(queue);
    expect(deliveries).toHaveLength(2 * sent.size);
    const bySerial = new Map<number, number[]>();
    for (const delivery of deliveries) bySerial.set(delivery.serial, [...(bySerial.get(delivery.serial) ?? []), delivery.atMs]);
    expect([...bySerial.values()].every((times) => times.length === 2)).toBe(true);
    expect([...bySerial.values()].some(([first, second]) => first !== second)).toBe(true);
    expect(network.counters.duplicated).toBe(sent.size);
    expectConserved(network);

    const half = setUp({ ...RELIABLE, duplicateRate: 0.5 });
    const halfSent = sendAll(half.network, 300);
    runAll(half.queue);
    // 3,600 messages; standard deviation of the duplicates = 30.
    expect(Math.abs(half.network.counters.duplicated - 0.5 * halfSent.size)).toBeLessThan(200);
    expect(half.deliveries).toHaveLength(halfSent.size + half.network.counters.duplicated);
  });

  test("a symmetric partition cuts exactly the links between groups, both ways, until heal", () => {
    const { queue, network, deliveries } = setUp(RELIABLE);
    network.partition([["n1", "n2"], ["n3", "n4"]]);
    const open = (from: string, to: string): boolean => network.isLinkOpen(from, to);
    expect([open("n1", "n2"), open("n2", "n1"), open("n3", "n4"), open("n4", "n3")]).toEqual([true, true, true, true]);
    expect([open("n1", "n3"), open("n3", "n1"), open("n2", "n4"), open("n4", "n2"), open("n1", "n4"), open("n3", "n2")]).toEqual([false, false, false, false, false, false]);
    sendAll(network, 1);
    runAll(queue);
    expect(deliveries.map((delivery) => `${delivery.from}->${delivery.to}`).sort()).toEqual(["n1->n2", "n2->n1", "n3->n4", "n4->n3"]);
    expect(network.counters.droppedPartition).toBe(8);
    expect(network.partitioned).toBe(true);
    network.heal();
    expect(network.partitioned).toBe(false);
    expect(() => network.partition([["n1"], ["n2", "n3"]])).toThrow(/cover 3 of 4/);
    expect(() => network.partition([["n1", "n2"], ["n2", "n3", "n4"]])).toThrow(/n2 is in two groups/);
  });

  test("a one-way partition cuts a->b and leaves b->a open", () => {
    const { queue, network, deliveries } = setUp(RELIABLE);
    network.blockOneWay(["n1"], ["n2", "n3"]);
    expect(network.isLinkOpen("n1", "n2")).toBe(false);
    expect(network.isLinkOpen("n1", "n3")).toBe(false);
    expect(network.isLinkOpen("n2", "n1")).toBe(true);
    expect(network.isLinkOpen("n3", "n1")).toBe(true);
    expect(network.isLinkOpen("n1", "n4")).toBe(true);
    sendAll(network, 1);
    runAll(queue);
    const links = deliveries.map((delivery) => `${delivery.from}->${delivery.to}`);
    expect(links).not.toContain("n1->n2");
    expect(links).not.toContain("n1->n3");
    expect(links).toHaveLength(10);
  });

  test("isolate-one and random halves", () => {
    const { network } = setUp(RELIABLE);
    network.isolate("n3");
    for (const other of ["n1", "n2", "n4"]) {
      expect(network.isLinkOpen("n3", other)).toBe(false);
      expect(network.isLinkOpen(other, "n3")).toBe(false);
    }
    expect(network.isLinkOpen("n1", "n4")).toBe(true);
    network.heal();
    const [left, right] = network.partitionRandomHalves(new Prng(3));
    expect(left).toHaveLength(2);
    expect(right).toHaveLength(2);
    expect([...left, ...right].sort()).toEqual(NODES);
    expect(network.isLinkOpen(left[0]!, left[1]!)).toBe(true);
    expect(network.isLinkOpen(left[0]!, right[0]!)).toBe(false);
    expect(network.isLinkOpen(right[1]!, left[1]!)).toBe(false);
  });

  test("messages in flight when a partition starts are dropped on arrival; healed before arrival, they arrive", () => {
    const { queue, network, deliveries } = setUp({ ...RELIABLE, delayMinMs: 10, delayMaxMs: 10 });
    network.send("n1", "n2", message(1));
    network.send("n1", "n3", message(2));
    queue.schedule(5, "cut n1-n2", () => network.partition([["n1"], ["n2", "n3", "n4"]]));
    queue.schedule(6, "heal", () => network.heal());
    queue.schedule(7, "cut again", () => network.blockOneWay(["n1"], ["n2"]));
    runAll(queue);
    expect(deliveries.map((delivery) => delivery.serial)).toEqual([2]);
    expect(network.counters.droppedPartition).toBe(1);
  });

  test("a down node receives nothing (also what was in flight to it) and sends nothing; once up it receives again", () => {
    const { queue, network, deliveries } = setUp({ ...RELIABLE, delayMinMs: 10, delayMaxMs: 10 });
    network.send("n2", "n1", message(1));
    queue.schedule(5, "n1 down", () => network.setDown("n1", true));
    runAll(queue);
    expect(deliveries).toHaveLength(0);
    network.send("n1", "n2", message(2));
    network.send("n3", "n1", message(3));
    runAll(queue);
    expect(deliveries).toHaveLength(0);
    expect(network.counters.droppedDown).toBe(3);
    network.setDown("n1", false);
    expect(network.isDown("n1")).toBe(false);
    network.send("n3", "n1", message(4));
    runAll(queue);
    expect(deliveries.map((delivery) => delivery.serial)).toEqual([4]);
    expectConserved(network);
  });

  test("a full link drops what exceeds linkInFlightMax; bytes are copied at send and per delivery", () => {
    const { queue, network, deliveries } = setUp({ ...RELIABLE, duplicateRate: 1 }, 1, 3);
    const bytes = message(7);
    network.send("n1", "n2", bytes);
    network.send("n1", "n2", message(8));
    bytes.fill(0xff);
    expect(network.counters).toMatchObject({ sent: 2, duplicated: 2, droppedOverflow: 1, inFlight: 3 });
    runAll(queue);
    expect(deliveries.map((delivery) => delivery.serial).sort()).toEqual([7, 7, 8]);
    expectConserved(network);
    expect(() => network.send("n1", "n1", message(9))).toThrow(/cannot send to itself/);
    expect(() => network.send("n1", "n9", message(9))).toThrow(/unknown node "n9"/);
  });

  test("the same seeded scenario of sends and partitions gives the same delivery trace; another seed does not", () => {
    const faults: LinkFaults = { delayMinMs: 1, delayMeanMs: 4, delayMaxMs: 25, dropRate: 0.1, duplicateRate: 0.2 };
    const scenario = (seed: number): string => {
      const { queue, network, trace } = setUp(faults, seed);
      const workload = new Prng(seed).fork("workload");
      for (let index = 0; index < 400; index++) {
        const atMs = workload.int(0, 500);
        const [from, to] = workload.shuffle([...NODES]) as [string, string];
        queue.schedule(atMs, "send", () => network.send(from, to, message(index)));
      }
      queue.schedule(100, "partition", () => network.partition([["n1", "n4"], ["n2", "n3"]]));
      queue.schedule(180, "one-way", () => network.blockOneWay(["n2"], ["n1", "n4"]));
      queue.schedule(250, "heal", () => network.heal());
      queue.schedule(300, "n3 down", () => network.setDown("n3", true));
      queue.schedule(400, "n3 up", () => network.setDown("n3", false));
      runAll(queue);
      expectConserved(network);
      return `${trace.hash} ${trace.count} ${network.describeCounters()}`;
    };
    const first = scenario(77);
    expect(scenario(77)).toBe(first);
    expect(scenario(78)).not.toBe(first);
  });
});
