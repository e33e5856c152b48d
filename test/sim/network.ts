import { assert, AssertionError } from "../../src/assert";
import type { EventQueue } from "./eventQueue";
import type { Prng } from "./prng";

/**
 * The simulated network: one directed link per ordered pair of named nodes, each with its own fault
 * parameters and its own PRNG stream (so traffic on one link never shifts another link's draws).
 *
 * `send` decides, at send time, whether the message is lost and whether it is duplicated, and
 * schedules each copy's arrival on the EventQueue after its own delay (min + exponential(mean),
 * capped at max); reordering follows from the independent delays. At arrival the message is
 * delivered only if the link is open *then* and the receiver is up: a message in flight when a
 * partition starts, or when its receiver crashes, is dropped. Partitions are sets of cut directed
 * links, so symmetric and one-way cuts compose until `heal()`.
 *
 * Each delivered copy is a fresh Uint8Array, so neither sender nor receivers can alter another's bytes.
 */

export interface LinkFaults {
  /** Every message takes at least this long. */
  readonly delayMinMs: number;
  /** Mean of the exponential part of the delay, added to the minimum. */
  readonly delayMeanMs: number;
  /** No message takes longer (>= delayMinMs): the crash-restart rule relies on this bound. */
  readonly delayMaxMs: number;
  /** Probability in [0, 1] that a sent message is lost. */
  readonly dropRate: number;
  /** Probability in [0, 1] that a message not lost also arrives a second time, with its own delay. */
  readonly duplicateRate: number;
}

/** Called inside a queue event when a copy arrives: `to` receives `bytes` from `from`. */
export type Deliver = (to: string, from: string, bytes: Uint8Array) => void;

export interface SimNetworkOptions {
  readonly queue: EventQueue;
  /** The network's stream; each link forks its own from it by the link's name. */
  readonly prng: Prng;
  /** The node names, distinct; the set is fixed for the network's lifetime. */
  readonly nodes: readonly string[];
  /** The faults of every link, until setLinkFaults changes one. */
  readonly faults: LinkFaults;
  /** At most this many copies in flight on one link; a copy beyond it is dropped (a full path). */
  readonly linkInFlightMax: number;
  readonly deliver: Deliver;
}

export interface NetworkCounters {
  /** Calls to send. */
  readonly sent: number;
  /** Extra copies made by duplication. */
  readonly duplicated: number;
  /** Copies handed to `deliver`. */
  readonly delivered: number;
  /** Messages lost by the link's drop rate. */
  readonly droppedLoss: number;
  /** Copies whose link was cut at send or at arrival. */
  readonly droppedPartition: number;
  /** Copies sent by a down node, or arriving at one. */
  readonly droppedDown: number;
  /** Copies beyond linkInFlightMax. */
  readonly droppedOverflow: number;
  /** Copies scheduled and not yet arrived. sent + duplicated = delivered + dropped + inFlight. */
  readonly inFlight: number;
}

interface Link {
  readonly from: string;
  readonly to: string;
  readonly prng: Prng;
  faults: LinkFaults;
  cut: boolean;
  inFlight: number;
}

export class SimNetwork {
  private readonly queue: EventQueue;
  private readonly deliver: Deliver;
  private readonly linkInFlightMax: number;
  private readonly nodeNames: readonly string[];
  private readonly links = new Map<string, Map<string, Link>>();
  private readonly down = new Set<string>();
  private readonly counts = { sent: 0, duplicated: 0, delivered: 0, droppedLoss: 0, droppedPartition: 0, droppedDown: 0, droppedOverflow: 0, inFlight: 0 };

  constructor(options: SimNetworkOptions) {
    assert(new Set(options.nodes).size === options.nodes.length, "network node names must be distinct");
    assert(options.nodes.length >= 1, "a network needs at least one node");
    assert(Number.isSafeInteger(options.linkInFlightMax) && options.linkInFlightMax > 0, "linkInFlightMax must be a positive integer");
    checkLinkFaults(options.faults);
    this.queue = options.queue;
    this.deliver = options.deliver;
    this.linkInFlightMax = options.linkInFlightMax;
    this.nodeNames = [...options.nodes];
    for (const from of this.nodeNames) {
      const outgoing = new Map<string, Link>();
      for (const to of this.nodeNames) {
        if (to === from) continue;
        outgoing.set(to, { from, to, prng: options.prng.fork(`link:${from}->${to}`), faults: options.faults, cut: false, inFlight: 0 });
      }
      this.links.set(from, outgoing);
    }
  }

  get nodes(): readonly string[] {
    return this.nodeNames;
  }

  /** Sends `bytes` from one node to another (distinct, both known); the bytes are copied now. */
  send(from: string, to: string, bytes: Uint8Array): void {
    const link = this.link(from, to);
    this.counts.sent++;
    if (this.down.has(from)) {
      this.counts.droppedDown++;
      return;
    }
    if (link.cut) {
      this.counts.droppedPartition++;
      return;
    }
    if (link.prng.chance(link.faults.dropRate)) {
      this.counts.droppedLoss++;
      return;
    }
    const copy = Uint8Array.from(bytes);
    this.transmit(link, copy);
    if (link.prng.chance(link.faults.duplicateRate)) {
      this.counts.duplicated++;
      this.transmit(link, copy);
    }
  }

  /** Changes the faults of the directed link from -> to. */
  setLinkFaults(from: string, to: string, faults: LinkFaults): void {
    checkLinkFaults(faults);
    this.link(from, to).faults = faults;
  }

  /**
   * Symmetric partition: nodes in different groups cannot talk, in either direction. The groups must
   * be disjoint and cover every node. Adds to any cut already in place.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((group, index) => {
      for (const node of group) {
        assert(!groupOf.has(node), `partition: ${node} is in two groups`);
        this.assertNode(node);
        groupOf.set(node, index);
      }
    });
    assert(groupOf.size === this.nodeNames.length, `partition: groups cover ${groupOf.size} of ${this.nodeNames.length} nodes`);
    for (const link of this.allLinks()) if (groupOf.get(link.from) !== groupOf.get(link.to)) link.cut = true;
  }

  /** One-way partition: every link from a node of `from` to a node of `to` is cut; the reverse stays open. */
  blockOneWay(from: readonly string[], to: readonly string[]): void {
    for (const source of from) for (const target of to) if (source !== target) this.link(source, target).cut = true;
  }

  /** Cuts `node` off from every other node, both ways. */
  isolate(node: string): void {
    this.partition([[node], this.nodeNames.filter((other) => other !== node)]);
  }

  /** Splits the nodes into two random halves (sizes floor(n/2) and ceil(n/2)); returns the halves. */
  partitionRandomHalves(prng: Prng): [string[], string[]] {
    const shuffled = prng.shuffle([...this.nodeNames]);
    const halves: [string[], string[]] = [shuffled.slice(0, Math.floor(shuffled.length / 2)), shuffled.slice(Math.floor(shuffled.length / 2))];
    this.partition(halves);
    return halves;
  }

  /** Reopens every link. Messages already dropped stay dropped. */
  heal(): void {
    for (const link of this.allLinks()) link.cut = false;
  }

  /** Whether from -> to is currently open (not cut). */
  isLinkOpen(from: string, to: string): boolean {
    return !this.link(from, to).cut;
  }

  /** Whether any link is cut. */
  get partitioned(): boolean {
    for (const link of this.allLinks()) if (link.cut) return true;
    return false;
  }

  /** A down node sends nothing and receives nothing: copies arriving while it is down are dropped. */
  setDown(node: string, down: boolean): void {
    this.assertNode(node);
    if (down) this.down.add(node);
    else this.down.delete(node);
  }

  isDown(node: string): boolean {
    return this.down.has(node);
  }

  get counters(): NetworkCounters {
    return { ...this.counts };
  }

  /** One line for failure reports. */
  describeCounters(): string {
    const c = this.counts;
    const dropped = c.droppedLoss + c.droppedPartition + c.droppedDown + c.droppedOverflow;
    return `sent ${c.sent}, delivered ${c.delivered}, duplicated ${c.duplicated}, dropped ${dropped} (loss ${c.droppedLoss}, partition ${c.droppedPartition}, down ${c.droppedDown}, overflow ${c.droppedOverflow}), in flight ${c.inFlight}`;
  }

  private transmit(link: Link, bytes: Uint8Array): void {
    if (link.inFlight >= this.linkInFlightMax) {
      this.counts.droppedOverflow++;
      return;
    }
    const { delayMinMs, delayMeanMs, delayMaxMs } = link.faults;
    const delayMs = Math.min(delayMinMs + link.prng.exponential(delayMeanMs), delayMaxMs);
    link.inFlight++;
    this.counts.inFlight++;
    this.queue.schedule(this.queue.now + delayMs, `deliver ${link.from}->${link.to}`, () => this.arrive(link, bytes), link.to);
  }

  private arrive(link: Link, bytes: Uint8Array): void {
    link.inFlight--;
    this.counts.inFlight--;
    if (link.cut) {
      this.counts.droppedPartition++;
      return;
    }
    if (this.down.has(link.to)) {
      this.counts.droppedDown++;
      return;
    }
    this.counts.delivered++;
    this.deliver(link.to, link.from, Uint8Array.from(bytes));
  }

  private link(from: string, to: string): Link {
    this.assertNode(from);
    this.assertNode(to);
    if (to === from) throw new AssertionError(`${from} cannot send to itself over the network`);
    return this.links.get(from)?.get(to) as Link;
  }

  private assertNode(node: string): void {
    if (!this.links.has(node)) throw new AssertionError(`unknown node ${JSON.stringify(node)}`);
  }

  private *allLinks(): Iterable<Link> {
    for (const outgoing of this.links.values()) yield* outgoing.values();
  }
}

function checkLinkFaults(faults: LinkFaults): void {
  assert(faults.delayMinMs >= 0, `delayMinMs must be >= 0, got ${faults.delayMinMs}`);
  assert(faults.delayMeanMs >= 0, `delayMeanMs must be >= 0, got ${faults.delayMeanMs}`);
  assert(faults.delayMaxMs >= faults.delayMinMs, `delayMaxMs ${faults.delayMaxMs} < delayMinMs ${faults.delayMinMs}`);
  assert(Number.isFinite(faults.delayMaxMs), "delayMaxMs must be finite");
  assert(faults.dropRate >= 0 && faults.dropRate <= 1, `dropRate must be in [0, 1], got ${faults.dropRate}`);
  assert(faults.duplicateRate >= 0 && faults.duplicateRate <= 1, `duplicateRate must be in [0, 1], got ${faults.duplicateRate}`);
}
