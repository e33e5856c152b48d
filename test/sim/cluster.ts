import { KeySigner, type PrivateKey, privateKeyFromSeed } from "../../src/crypto";
import { type Federation, type FederationParameters, formatFederationFile, parseFederation } from "../../src/federation";
import type { BatchEntry } from "../../src/batch";
import { Replica, type ReplicaTuning } from "../../src/replica/replica";
import { buildAddSignal, signStatement } from "../../src/statements";
import { type DurableImage, MemoryKeyValueStore } from "../../src/store";
import { EventQueue } from "./eventQueue";
import { type LinkFaults, SimNetwork } from "./network";
import { Prng } from "./prng";
import type { Trace } from "./trace";
import { VirtualTimers } from "./virtualTimers";

/** One incarnation of a simulated validator: its disk, timers and replica (until it crashes). */
interface Incarnation {
  /** What its disk came up from: nothing, the disk as the last crash left it, or an old copy. */
  readonly origin: "empty" | "own disk" | "backup";
  readonly store: MemoryKeyValueStore;
  readonly timers: VirtualTimers;
  replica: Replica | undefined;
  alive: boolean;
}

/** A durable image of a node's disk and when it was taken. */
export interface TimedImage {
  readonly atMs: number;
  readonly image: DurableImage;
}

export interface SimNode {
  readonly name: string;
  readonly key: PrivateKey;
  incarnation: Incarnation | undefined;
  /** Durable images of the disk taken along the way (backups), oldest first, to restart from an old copy. */
  readonly images: TimedImage[];
  /** What the disk durably held at the last crash: a normal restart comes up from it. */
  crashImage: DurableImage | undefined;
  /** Incarnations started so far (1 after the first start). */
  incarnations: number;
}

/**
 * Stands between a node's replica and the network. It gets every message the replica sends, one
 * call per destination, and calls `send` for whatever should go out instead (nothing, the same
 * bytes, other bytes, to other peers). Byzantine validators are built on this.
 */
export type OutboundFilter = (to: string, bytes: Uint8Array, send: (to: string, bytes: Uint8Array) => void) => void;

/** Sees every message a node's replica hands to its transport, before any filter. */
export type SendObserver = (from: string, to: string, bytes: Uint8Array) => void;

/** Sees every message delivered to a node that is up (it reaches the replica next). */
export type DeliveryObserver = (to: string, from: string, bytes: Uint8Array) => void;

export interface ClusterOptions {
  readonly seed: number;
  readonly validators: number;
  /** Members that submit and sync but vote on nothing, after the validators (o0.example, ...). Default none. */
  readonly observers?: number;
  readonly faults: LinkFaults;
  readonly diskWriteDelayMs: number;
  readonly parameters?: Partial<FederationParameters>;
  readonly tuning?: Partial<ReplicaTuning>;
  /** Where the cluster records its own lines (starts, crashes, replica log lines); events are the trace's own. */
  readonly trace?: Trace;
}

export interface Acknowledgement {
  readonly statementId: string;
  readonly logIndex: number;
  readonly node: string;
  readonly atMs: number;
}

/** The round timeouts the simulator runs with (ms): short, so that a seed covers many rounds cheaply. */
export const SIM_TIMEOUTS = { timeoutProposeMs: 300, timeoutPrevoteMs: 200, timeoutPrecommitMs: 200, timeoutDeltaMs: 100 } as const;

/**
 * A whole federation in one process, in virtual time: real replicas on simulated disks, talking
 * through a simulated network, all driven by one seed.
 */
export class Cluster {
  readonly queue = new EventQueue({ eventsPendingMax: 1_000_000 });
  readonly prng: Prng;
  readonly network: SimNetwork;
  readonly federation: Federation;
  readonly nodes: SimNode[];
  readonly acknowledgements: Acknowledgement[] = [];
  /** Statements submitted whose submit has neither been acknowledged nor refused yet, by id, with the incarnation that took them. */
  private readonly unsettled = new Map<string, { readonly node: SimNode; readonly incarnation: Incarnation }>();
  /** Errors thrown inside a live replica (or its start): bugs, each a violation. */
  readonly failures: { readonly node: string; readonly atMs: number; readonly error: string }[] = [];
  private readonly workload: Prng;
  private submitted = 0;
  private readonly filters = new Map<string, OutboundFilter>();
  private readonly sendObservers: SendObserver[] = [];
  private readonly deliveryObservers: DeliveryObserver[] = [];
  private readonly openListeners: ((node: SimNode, replica: Replica) => void)[] = [];

  constructor(private readonly options: ClusterOptions) {
    this.prng = new Prng(options.seed);
    const keys = this.prng.fork("keys");
    const roles = [...Array.from({ length: options.validators }, () => "validator" as const), ...Array.from({ length: options.observers ?? 0 }, () => "observer" as const)];
    this.nodes = roles.map((role, i) => {
      const name = role === "validator" ? `v${i}.example` : `o${i - options.validators}.example`;
      return { name, key: privateKeyFromSeed(name, keys.bytes(32)), incarnation: undefined, images: [], crashImage: undefined, incarnations: 0 };
    });
    this.federation = parseFederation(
      formatFederationFile({
        origin: "hashfed.example/sim",
        members: this.nodes.map((node, i) => ({ name: node.name, key: node.key.verifierKey.text, address: `10.0.0.${i + 1}:7401`, role: roles[i]! })),
        parameters: { ...SIM_TIMEOUTS, ...options.parameters },
      }),
    );
    this.workload = this.prng.fork("workload");
    this.network = new SimNetwork({
      queue: this.queue,
      prng: this.prng.fork("network"),
      nodes: this.nodes.map((node) => node.name),
      faults: options.faults,
      linkInFlightMax: 10_000,
      deliver: (to, from, bytes) => {
        const incarnation = this.node(to).incarnation;
        if (!incarnation?.alive || incarnation.replica === undefined) return;
        for (const observer of this.deliveryObservers) observer(to, from, bytes);
        incarnation.replica.receive(from, bytes);
      },
    });
  }

  node(name: string): SimNode {
    return this.nodes.find((node) => node.name === name)!;
  }

  /** Puts `filter` between `node`'s replica and the network, for all its incarnations. */
  setOutboundFilter(node: string, filter: OutboundFilter): void {
    this.filters.set(node, filter);
  }

  observeSends(observer: SendObserver): void {
    this.sendObservers.push(observer);
  }

  observeDeliveries(observer: DeliveryObserver): void {
    this.deliveryObservers.push(observer);
  }

  /** Called with each replica once it has opened its store, before it handles any input. */
  onOpen(listener: (node: SimNode, replica: Replica) => void): void {
    this.openListeners.push(listener);
  }

  /**
   * Schedules the start (or restart) of a node, from a disk image or from an empty disk. Starting
   * reads and writes the simulated disk, whose writes complete as queue events, so it runs inside
   * the run loop like everything else.
   */
  startAt(atMs: number, node: SimNode, image?: DurableImage): void {
    this.queue.schedule(atMs, "start", () => this.startNow(node, image), node.name);
  }

  /** Starts a node now (inside a queue event), from `image` or from an empty disk. */
  startNow(node: SimNode, image?: DurableImage): void {
    const incarnation = this.newIncarnation(node, image);
    this.open(node, incarnation).catch((error: unknown) => this.fail(node, incarnation, error));
  }

  private newIncarnation(node: SimNode, image: DurableImage | undefined): Incarnation {
    const completeWrite = (complete: () => void): void => {
      this.queue.schedule(this.queue.now + this.options.diskWriteDelayMs, "disk write", complete, node.name);
    };
    const store = image === undefined ? new MemoryKeyValueStore({ completeWrite }) : MemoryKeyValueStore.fromImage(image, { completeWrite });
    const origin = image === undefined ? "empty" : image === node.crashImage ? "own disk" : "backup";
    const incarnation: Incarnation = { origin, store, timers: new VirtualTimers(this.queue, node.name), replica: undefined, alive: true };
    node.incarnation = incarnation;
    node.incarnations++;
    this.network.setDown(node.name, false);
    return incarnation;
  }

  private async open(node: SimNode, incarnation: Incarnation): Promise<void> {
    const send = (to: string, bytes: Uint8Array): void => {
      if (incarnation.alive) this.network.send(node.name, to, bytes);
    };
    const replica = await Replica.open({
      federation: this.federation,
      signer: new KeySigner(node.key),
      kv: incarnation.store,
      timers: incarnation.timers,
      tuning: this.options.tuning,
      transport: {
        send: (to, bytes) => {
          if (!incarnation.alive) return;
          for (const observer of this.sendObservers) observer(node.name, to, bytes);
          const filter = this.filters.get(node.name);
          if (filter === undefined) send(to, bytes);
          else filter(to, bytes, send);
        },
      },
      log: (line) => this.options.trace?.record(this.queue.now, node.name, line.replace(/\n/g, " ")),
      onFatal: (error) => this.fail(node, incarnation, error),
    });
    if (!incarnation.alive) {
      replica.close();
      return;
    }
    incarnation.replica = replica;
    for (const listener of this.openListeners) listener(node, replica);
  }

  /** A bug in a live incarnation is a failure; whatever a dead one's leftover promises throw is not. */
  private fail(node: SimNode, incarnation: Incarnation, error: unknown): void {
    if (!incarnation.alive) return;
    this.failures.push({ node: node.name, atMs: this.queue.now, error: (error as Error).stack ?? String(error) });
  }

  /** The node's process dies: memory and unsynced writes are gone; its durable image remains. */
  crash(node: SimNode): DurableImage {
    const incarnation = node.incarnation!;
    incarnation.alive = false;
    incarnation.replica?.close();
    incarnation.timers.close();
    this.network.setDown(node.name, true);
    node.incarnation = undefined;
    node.crashImage = incarnation.store.crash();
    return node.crashImage;
  }

  /** Keeps a copy of what the node's disk durably holds now (a backup), for a later stale restore. */
  backUp(node: SimNode): void {
    if (node.incarnation?.alive !== true) return;
    node.images.push({ atMs: this.queue.now, image: node.incarnation.store.image() });
  }

  /** Submits `count` new statements signed by `node`'s member key at that node. */
  submitAt(node: SimNode, count: number): void {
    const replica = node.incarnation?.replica;
    if (replica === undefined) return;
    const signer = new KeySigner(node.key);
    const entries: BatchEntry[] = Array.from({ length: count }, () => {
      const salt = this.workload.bytes(16);
      const value = this.workload.bytes(32);
      const built = buildAddSignal(
        { federationId: this.federation.id, submitter: node.name, createdAtMs: BigInt(Math.floor(this.queue.now)), nonce: this.workload.bytes(16) },
        { signalType: "sha256", value, labels: ["graphic-violence"], taxonomyVersion: this.federation.taxonomy.version, quality: 0, salt },
      );
      return { signed: signStatement(signer, built.bytes), reveal: { salt, value } };
    });
    this.submitted += count;
    const incarnation = node.incarnation!;
    replica.submit(entries).forEach((wait, i) => {
      const statementId = entries[i]!.signed.id.toString("hex");
      this.unsettled.set(statementId, { node, incarnation });
      wait.then(
        (logIndex) => {
          this.unsettled.delete(statementId);
          this.acknowledgements.push({ statementId, logIndex, node: node.name, atMs: this.queue.now });
        },
        () => this.unsettled.delete(statementId),
      );
    });
  }

  /**
   * Statements submitted at an incarnation still up that were neither acknowledged nor refused: once
   * the network has healed, every one must come to one or the other (one whose node crashed since
   * may be lost with it, unacknowledged, as a client would see).
   */
  unsettledSubmissions(): { readonly statementId: string; readonly node: string }[] {
    return [...this.unsettled].filter(([, { incarnation }]) => incarnation.alive).map(([statementId, { node }]) => ({ statementId, node: node.name }));
  }

  /** Where `node`'s current incarnation's disk came up from. */
  originOf(node: SimNode): Incarnation["origin"] | undefined {
    return node.incarnation?.origin;
  }

  get submittedCount(): number {
    return this.submitted;
  }

  /** The replicas that are up, by name. */
  liveReplicas(): Replica[] {
    return this.nodes.flatMap((node) => (node.incarnation?.replica !== undefined ? [node.incarnation.replica] : []));
  }

  /** The replica of `node` if it is up and open. */
  replicaOf(node: SimNode): Replica | undefined {
    return node.incarnation?.alive === true ? node.incarnation.replica : undefined;
  }

  /** Stops every replica (the queue is simply dropped afterwards). */
  close(): void {
    for (const node of this.nodes) {
      const incarnation = node.incarnation;
      if (incarnation === undefined) continue;
      incarnation.alive = false;
      incarnation.replica?.close();
      incarnation.timers.close();
    }
  }
}
