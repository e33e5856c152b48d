import { KeySigner, type PrivateKey, privateKeyFromSeed } from "../../src/crypto";
import { type Federation, type FederationParameters, formatFederationFile, parseFederation } from "../../src/federation";
import type { BatchEntry } from "../../src/batch";
import { Replica } from "../../src/replica/replica";
import { buildAddSignal, signStatement } from "../../src/statements";
import { type DurableImage, MemoryKeyValueStore } from "../../src/store";
import { EventQueue } from "./eventQueue";
import { type LinkFaults, SimNetwork } from "./network";
import { Prng } from "./prng";
import { VirtualTimers } from "./virtualTimers";

/** One incarnation of a simulated validator: its disk, timers and replica (until it crashes). */
interface Incarnation {
  readonly store: MemoryKeyValueStore;
  readonly timers: VirtualTimers;
  replica: Replica | undefined;
  alive: boolean;
}

export interface SimNode {
  readonly name: string;
  readonly key: PrivateKey;
  incarnation: Incarnation | undefined;
  /** Durable images of the disk taken along the way, to restart from an old copy. */
  readonly images: { readonly atMs: number; readonly image: DurableImage }[];
}

export interface ClusterOptions {
  readonly seed: number;
  readonly validators: number;
  readonly faults: LinkFaults;
  readonly diskWriteDelayMs: number;
  readonly parameters?: Partial<FederationParameters>;
}

export interface Acknowledgement {
  readonly statementId: string;
  readonly logIndex: number;
  readonly node: string;
}

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
  readonly failures: string[] = [];
  private readonly workload: Prng;
  private submitted = 0;

  constructor(private readonly options: ClusterOptions) {
    this.prng = new Prng(options.seed);
    const keys = this.prng.fork("keys");
    this.nodes = Array.from({ length: options.validators }, (_, i) => {
      const name = `v${i}.example`;
      return { name, key: privateKeyFromSeed(name, keys.bytes(32)), incarnation: undefined, images: [] };
    });
    this.federation = parseFederation(
      formatFederationFile({
        origin: "hashfed.example/sim",
        members: this.nodes.map((node, i) => ({ name: node.name, key: node.key.verifierKey.text, address: `10.0.0.${i + 1}:7401`, role: "validator" as const })),
        parameters: { timeoutProposeMs: 300, timeoutPrevoteMs: 200, timeoutPrecommitMs: 200, timeoutDeltaMs: 100, ...options.parameters },
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
        if (incarnation?.alive && incarnation.replica !== undefined) incarnation.replica.receive(from, bytes);
      },
    });
  }

  node(name: string): SimNode {
    return this.nodes.find((node) => node.name === name)!;
  }

  /**
   * Schedules the start (or restart) of a node, from a disk image or from an empty disk. Starting
   * reads and writes the simulated disk, whose writes complete as queue events, so it runs inside
   * the run loop like everything else.
   */
  startAt(atMs: number, node: SimNode, image?: DurableImage): void {
    this.queue.schedule(atMs, "start", () => {
      this.start(node, image).catch((error: unknown) => this.failures.push(`${node.name} start: ${(error as Error).stack ?? String(error)}`));
    }, node.name);
  }

  private async start(node: SimNode, image?: DurableImage): Promise<void> {
    const completeWrite = (complete: () => void): void => {
      this.queue.schedule(this.queue.now + this.options.diskWriteDelayMs, "disk write", complete, node.name);
    };
    const store = image === undefined ? new MemoryKeyValueStore({ completeWrite }) : MemoryKeyValueStore.fromImage(image, { completeWrite });
    const timers = new VirtualTimers(this.queue, node.name);
    const incarnation: Incarnation = { store, timers, replica: undefined, alive: true };
    node.incarnation = incarnation;
    this.network.setDown(node.name, false);
    incarnation.replica = await Replica.open({
      federation: this.federation,
      signer: new KeySigner(node.key),
      kv: store,
      timers,
      transport: { send: (to, bytes) => incarnation.alive && this.network.send(node.name, to, bytes) },
      onFatal: (error) => this.failures.push(`${node.name}: ${(error as Error).stack ?? String(error)}`),
    });
  }

  /** The node's process dies: memory and unsynced writes are gone; its durable image remains. */
  crash(node: SimNode): DurableImage {
    const incarnation = node.incarnation!;
    incarnation.alive = false;
    incarnation.replica?.close();
    incarnation.timers.close();
    this.network.setDown(node.name, true);
    node.incarnation = undefined;
    return incarnation.store.crash();
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
    replica.submit(entries).forEach((wait, i) => {
      const statementId = entries[i]!.signed.id.toString("hex");
      wait.then(
        (logIndex) => this.acknowledgements.push({ statementId, logIndex, node: node.name }),
        () => {},
      );
    });
  }

  get submittedCount(): number {
    return this.submitted;
  }

  /** The replicas that are up, by name. */
  liveReplicas(): Replica[] {
    return this.nodes.flatMap((node) => (node.incarnation?.replica !== undefined ? [node.incarnation.replica] : []));
  }
}
