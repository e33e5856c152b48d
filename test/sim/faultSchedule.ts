import { assert, assertNever } from "../../src/assert";
import type { EventHandle, EventQueue } from "./eventQueue";
import type { SimNetwork } from "./network";
import type { Prng } from "./prng";
import type { PartitionKind, SwarmFaults } from "./swarm";
import type { Trace } from "./trace";

/**
 * Turns a seed's swarm fault parameters into events on the queue. During the chaos phase
 * [start, chaosEndMs) partitions start and heal, and nodes crash and restart, as Poisson processes
 * at the drawn rates. At chaosEndMs the network heals and no new fault starts: the liveness phase
 * (VOPR's transition_to_liveness_mode), in which the cluster must make progress within a bound.
 *
 * - Partitions come one at a time: the next one is drawn only after the current one healed.
 * - At most `crashedAtOnceMax` nodes are down together; a crash that would exceed it is skipped.
 * - A restart is always scheduled restartDelay (> the network's delayMaxMs) after its crash, even
 *   when that falls in the liveness phase, so no message of a crashed incarnation is still in flight
 *   when the node comes back; pending restarts are therefore kept when chaos ends.
 *
 * The cluster supplies what a crash and a restart mean: `crash(node)` should at least mark the node
 * down on the network, close its VirtualTimers and drop its unsynced writes; `restart(node, { stale })`
 * rebuilds a replica from the simulated disk (an old image of it when `stale`) and marks it up.
 *
 * - A power loss (in POWER_LOSS_SHARE of the runs with crashes, at a time drawn in the chaos phase)
 *   crashes every crashable node that is up at once, whatever crashedAtOnceMax and mayCrash say, and
 *   restarts each from its own disk: what kill -9 of a whole federation does, where a node that lost
 *   acknowledged work cannot catch it up from a peer. Safety must hold through it; liveness is
 *   required after the heal as always.
 *
 * Each stream is its own fork ("partitions", "crash:<node>", "power loss"), so a change in one fault
 * class or one node's history does not move the others.
 */

/** The share of runs with crashes that also lose power once (see above). */
const POWER_LOSS_SHARE = 0.25;

/** The part of SimNetwork the schedule drives. */
export type PartitionableNetwork = Pick<SimNetwork, "nodes" | "partition" | "blockOneWay" | "isolate" | "partitionRandomHalves" | "heal">;

export interface FaultScheduleOptions {
  readonly queue: EventQueue;
  readonly prng: Prng;
  readonly faults: SwarmFaults;
  readonly network: PartitionableNetwork;
  /** The nodes that may crash (those absent, say Byzantine ones, never do). */
  readonly crashableNodes: readonly string[];
  /** Whether a power loss may be drawn (see above). */
  readonly powerLoss: boolean;
  /** Chaos runs from start() until this virtual time; then the liveness phase begins. */
  readonly chaosEndMs: number;
  /** At most this many nodes crashed at once (the cluster passes, for example, f). */
  readonly crashedAtOnceMax: number;
  /**
   * Consulted before each crash, after crashedAtOnceMax: false skips it. For budgets the schedule
   * cannot see, such as nodes restored from a stale disk, which stay faulty after they are back up.
   */
  readonly mayCrash?: (node: string) => boolean;
  readonly crash: (node: string) => void;
  readonly restart: (node: string, options: { stale: boolean }) => void;
  /** Called at chaosEndMs, after the network healed. */
  readonly onLiveness?: () => void;
  /** Where fault decisions are recorded as lines, beside the queue's own events. */
  readonly trace?: Trace;
}

export type FaultPhase = "idle" | "chaos" | "liveness";

export interface FaultCounters {
  readonly partitions: number;
  readonly crashes: number;
  /** Crashes not done because crashedAtOnceMax nodes were already down, or mayCrash said no. */
  readonly crashesSkipped: number;
  readonly restarts: number;
  readonly staleRestarts: number;
  readonly powerLosses: number;
}

const MS_PER_SECOND = 1_000;

export class FaultSchedule {
  private readonly options: FaultScheduleOptions;
  private readonly partitionPrng: Prng;
  private readonly crashPrngs = new Map<string, Prng>();
  private readonly crashed = new Set<string>();
  /** Pending partition and crash events: cancelled when chaos ends (restarts are never cancelled). */
  private readonly chaosEvents = new Set<EventHandle>();
  private currentPhase: FaultPhase = "idle";
  private readonly counts = { partitions: 0, crashes: 0, crashesSkipped: 0, restarts: 0, staleRestarts: 0, powerLosses: 0 };

  constructor(options: FaultScheduleOptions) {
    assert(Number.isSafeInteger(options.crashedAtOnceMax) && options.crashedAtOnceMax >= 0, "crashedAtOnceMax must be an integer >= 0");
    assert(Number.isFinite(options.chaosEndMs), "chaosEndMs must be finite");
    for (const node of options.crashableNodes) assert(options.network.nodes.includes(node), `crashable node ${node} is not on the network`);
    this.options = options;
    this.partitionPrng = options.prng.fork("partitions");
    for (const node of options.crashableNodes) this.crashPrngs.set(node, options.prng.fork(`crash:${node}`));
  }

  get phase(): FaultPhase {
    return this.currentPhase;
  }

  /** Nodes crashed and not yet restarted. */
  get crashedNodes(): ReadonlySet<string> {
    return this.crashed;
  }

  get counters(): FaultCounters {
    return { ...this.counts };
  }

  /** Starts the chaos phase now (queue.now < chaosEndMs) and schedules its end. Call once. */
  start(): void {
    const { queue, chaosEndMs } = this.options;
    assert(this.currentPhase === "idle", "FaultSchedule.start called twice");
    assert(queue.now < chaosEndMs, `chaos would end (${chaosEndMs}ms) before it starts (${queue.now}ms)`);
    this.currentPhase = "chaos";
    queue.schedule(chaosEndMs, "liveness phase: heal all, no new faults", () => this.enterLiveness());
    this.scheduleNextPartition();
    for (const node of this.crashPrngs.keys()) this.scheduleNextCrash(node);
    this.schedulePowerLoss();
  }

  private schedulePowerLoss(): void {
    const { queue, faults, prng, chaosEndMs } = this.options;
    if (!this.options.powerLoss || faults.crashRatePerNodePerSecond === 0 || this.crashPrngs.size === 0) return;
    const power = prng.fork("power loss");
    if (!power.chance(POWER_LOSS_SHARE)) return;
    this.scheduleChaos(queue.now + power.float() * (chaosEndMs - queue.now), "power loss", "", () => this.losePower(power));
  }

  private losePower(power: Prng): void {
    const { queue, faults } = this.options;
    const up = [...this.crashPrngs.keys()].filter((node) => !this.crashed.has(node));
    this.counts.powerLosses++;
    this.options.trace?.record(queue.now, "", `POWER LOSS: ${up.join(",")} crash at once`);
    for (const node of up) {
      this.crashed.add(node);
      this.counts.crashes++;
      this.options.crash(node);
      const restartDelayMs = faults.restartDelayMinMs + power.float() * (faults.restartDelayMaxMs - faults.restartDelayMinMs);
      // Its own crash stream goes on as it was: its next crash is still scheduled.
      queue.schedule(queue.now + restartDelayMs, "restart after the power loss", () => this.restartNode(node, false, { resumeCrashes: false }), node);
    }
  }

  private enterLiveness(): void {
    this.currentPhase = "liveness";
    for (const handle of this.chaosEvents) this.options.queue.cancel(handle);
    this.chaosEvents.clear();
    this.options.network.heal();
    this.options.onLiveness?.();
  }

  /** Schedules `action` at `atMs` if that is still within chaos; the event is cancelled when chaos ends. */
  private scheduleChaos(atMs: number, label: string, node: string, action: () => void): void {
    if (atMs >= this.options.chaosEndMs) return;
    const handle = this.options.queue.schedule(
      atMs,
      label,
      () => {
        this.chaosEvents.delete(handle);
        action();
      },
      node,
    );
    this.chaosEvents.add(handle);
  }

  private scheduleNextPartition(): void {
    const { queue, faults } = this.options;
    if (faults.partitionRatePerSecond === 0) return;
    const gapMs = this.partitionPrng.exponential(MS_PER_SECOND / faults.partitionRatePerSecond);
    this.scheduleChaos(queue.now + gapMs, "partition start", "", () => this.startPartition());
  }

  private startPartition(): void {
    const { queue, faults } = this.options;
    const kind = this.partitionPrng.pick(faults.partitionKinds);
    const shape = this.applyPartition(kind);
    this.counts.partitions++;
    this.options.trace?.record(queue.now, "", `partition ${kind}: ${shape}`);
    const lengthMs = this.partitionPrng.exponential(faults.partitionMeanMs);
    // A partition still on when chaos ends is healed by enterLiveness.
    this.scheduleChaos(queue.now + lengthMs, "partition heal", "", () => {
      this.options.network.heal();
      this.scheduleNextPartition();
    });
  }

  /** Cuts the network into a partition of the given kind; returns its shape for the trace. */
  private applyPartition(kind: PartitionKind): string {
    const { network } = this.options;
    const prng = this.partitionPrng;
    switch (kind) {
      case "isolateOne": {
        const node = prng.pick(network.nodes);
        network.isolate(node);
        return `${node} | rest`;
      }
      case "randomHalves": {
        const [left, right] = network.partitionRandomHalves(prng);
        return `${left.join(",")} | ${right.join(",")}`;
      }
      case "symmetric": {
        const [left, right] = randomSplit(prng, network.nodes);
        network.partition([left, right]);
        return `${left.join(",")} | ${right.join(",")}`;
      }
      case "oneWay": {
        const [from, to] = randomSplit(prng, network.nodes);
        network.blockOneWay(from, to);
        return `${from.join(",")} -/-> ${to.join(",")}`;
      }
      default:
        return assertNever(kind);
    }
  }

  private scheduleNextCrash(node: string): void {
    const { queue, faults } = this.options;
    if (faults.crashRatePerNodePerSecond === 0) return;
    const gapMs = this.crashPrng(node).exponential(MS_PER_SECOND / faults.crashRatePerNodePerSecond);
    this.scheduleChaos(queue.now + gapMs, "crash", node, () => this.crashNode(node));
  }

  private crashNode(node: string): void {
    const { queue, faults } = this.options;
    const prng = this.crashPrng(node);
    // Down already, since a power loss (which leaves each node's crash stream as it was).
    if (this.crashed.has(node)) {
      this.scheduleNextCrash(node);
      return;
    }
    if (this.crashed.size >= this.options.crashedAtOnceMax || this.options.mayCrash?.(node) === false) {
      this.counts.crashesSkipped++;
      this.scheduleNextCrash(node);
      return;
    }
    this.crashed.add(node);
    this.counts.crashes++;
    this.options.crash(node);
    const restartDelayMs = faults.restartDelayMinMs + prng.float() * (faults.restartDelayMaxMs - faults.restartDelayMinMs);
    const stale = prng.chance(faults.staleRestoreRate);
    // Never cancelled: a node crashed late in chaos still comes back, after its messages are gone.
    queue.schedule(queue.now + restartDelayMs, stale ? "restart from a stale disk image" : "restart", () => this.restartNode(node, stale), node);
  }

  private restartNode(node: string, stale: boolean, { resumeCrashes = true } = {}): void {
    assert(this.crashed.delete(node), `restart of ${node}, which is not crashed`);
    this.counts.restarts++;
    if (stale) this.counts.staleRestarts++;
    this.options.restart(node, { stale });
    if (resumeCrashes && this.currentPhase === "chaos") this.scheduleNextCrash(node);
  }

  private crashPrng(node: string): Prng {
    const prng = this.crashPrngs.get(node);
    assert(prng !== undefined, `no crash stream for ${node}`);
    return prng;
  }
}

/** Splits the nodes into two non-empty random groups of random sizes (requires at least two nodes). */
function randomSplit(prng: Prng, nodes: readonly string[]): [string[], string[]] {
  assert(nodes.length >= 2, "a partition needs at least two nodes");
  const shuffled = prng.shuffle([...nodes]);
  const cut = prng.int(1, shuffled.length - 1);
  return [shuffled.slice(0, cut), shuffled.slice(cut)];
}
