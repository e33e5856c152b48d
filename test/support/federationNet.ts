import { type Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { type VerifiedCheckpoint, verifyCosignedCheckpoint } from "../../src/audit";
import type { Federation } from "../../src/federation";
import type { Evidence } from "../../src/gen/hashfed/v1/batch";
import { LogClient } from "../../src/gen/hashfed/v1/log";
import { MemberClient, type StatusResponse, type SubmitResponse } from "../../src/gen/hashfed/v1/member";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { CompactRange, hashLeaf, verifyConsistency } from "../../src/log";
import { statementIdOf } from "../../src/statements";
import { isRpcError, type UnaryMethod } from "../../src/client/rpc";
import type { SoloSetup } from "./cluster";
import { addSubmission, randomHex32 } from "./submissions";

/**
 * Helpers for multi-process federation tests: node processes started with extra options, gRPC
 * clients that reconnect quickly to a restarted node, bounded waits that say what they waited for,
 * a load generator that records every acknowledgement, reading and checking whole logs, and an
 * auditor that polls checkpoints and checks them the way an outside reader would.
 */

// ---- processes -------------------------------------------------------------------------------

// ---- clients ---------------------------------------------------------------------------------

/** Short reconnect backoff: a restarted node is reachable again within a fraction of a second. */
const CHANNEL_OPTIONS = { "grpc.initial_reconnect_backoff_ms": 100, "grpc.min_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 300 };

/** One unary call with a deadline, so that no test waits on a call forever. */
export function unary<C extends Client, Request, Response>(client: C, method: UnaryMethod<Request, Response>, request: Request, deadlineMs = 10_000): Promise<Response> {
  return new Promise((resolve, reject) => {
    method.call(client, request, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Every piece of evidence a node holds, read a page at a time as Log.GetEvidence serves it. */
export async function allEvidence(log: LogClient): Promise<Evidence[]> {
  const evidence: Evidence[] = [];
  for (let total = 1n; BigInt(evidence.length) < total; ) {
    const page = await unary(log, log.getEvidence, { start: BigInt(evidence.length) });
    evidence.push(...page.evidence);
    total = page.total;
    if (page.evidence.length === 0) break;
  }
  return evidence;
}

/** The Member and Log clients of one node. */
export class NodeClients {
  readonly member: MemberClient;
  readonly log: LogClient;

  constructor(
    readonly setup: SoloSetup,
    publicAddress = setup.publicAddress,
  ) {
    this.member = new MemberClient(setup.memberAddress, credentials.createInsecure(), CHANNEL_OPTIONS);
    this.log = new LogClient(publicAddress, credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  get name(): string {
    return this.setup.key.name;
  }

  status(): Promise<StatusResponse> {
    return unary(this.member, this.member.status, {}, 2000);
  }

  /** The node's latest checkpoint, verified as a reader must (a quorum of validators' signatures); undefined while the log is empty. */
  async checkpoint(): Promise<VerifiedCheckpoint | undefined> {
    try {
      const { checkpoint } = await unary(this.log, this.log.getCheckpoint, {}, 2000);
      return verifyCosignedCheckpoint(this.setup.federation, checkpoint);
    } catch (error) {
      if (isRpcError(error) && error.code === status.NOT_FOUND) return undefined;
      throw error;
    }
  }

  /** The checkpoint size, or undefined when the node does not answer (it is down). */
  async sizeIfUp(): Promise<bigint | undefined> {
    try {
      return (await this.checkpoint())?.checkpoint.size ?? 0n;
    } catch (error) {
      if (isRpcError(error)) return undefined;
      throw error;
    }
  }

  /** Entries [0, size), read 1000 at a time. */
  async entries(size: bigint): Promise<LogEntry[]> {
    const entries: LogEntry[] = [];
    for (let start = 0n; start < size; start += 1000n) {
      const end = start + 1000n < size ? start + 1000n : size;
      entries.push(...(await unary(this.log, this.log.getEntries, { start, end })).entries);
    }
    return entries;
  }

  close(): void {
    this.member.close();
    this.log.close();
  }
}

// ---- waiting ---------------------------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined; fails after `timeoutMs` with `what`
 * and, if given, a description of the state at that moment.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const state = describe === undefined ? "" : `; state: ${await describe().catch((error: unknown) => String(error))}`;
      const last = lastError === undefined ? "" : `; last error: ${(lastError as Error).message}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state}${last}`);
    }
    await sleep(100);
  }
}

/** "a.example: size 12 height 3, b.example: down, ..." for failure messages. */
export async function describeNodes(nodes: readonly NodeClients[]): Promise<string> {
  const parts = await Promise.all(
    nodes.map(async (node) => {
      try {
        const s = await node.status();
        return `${node.name}: size ${s.treeSize} height ${s.height} pending ${s.pendingStatements}`;
      } catch {
        return `${node.name}: down`;
      }
    }),
  );
  return parts.join(", ");
}

/** The largest checkpoint size among the nodes that answer. */
export async function maxSize(nodes: readonly NodeClients[]): Promise<bigint> {
  const sizes = await Promise.all(nodes.map((node) => node.sizeIfUp()));
  return sizes.reduce<bigint>((max, size) => (size !== undefined && size > max ? size : max), 0n);
}

/** Waits until every node serves a checkpoint of at least `size`. */
export function waitForSize(nodes: readonly NodeClients[], size: bigint, timeoutMs: number, what = `every node to reach size ${size}`): Promise<true> {
  return waitFor(
    what,
    async () => {
      const sizes = await Promise.all(nodes.map((node) => node.sizeIfUp()));
      return sizes.every((each) => each !== undefined && each >= size) ? true : undefined;
    },
    timeoutMs,
    () => describeNodes(nodes),
  );
}

/** Waits until every node serves the same checkpoint size and root; returns that size. */
export function waitForAgreement(nodes: readonly NodeClients[], timeoutMs: number): Promise<bigint> {
  return waitFor(
    `${nodes.map((node) => node.name).join(", ")} to serve the same checkpoint`,
    async () => {
      const checkpoints = await Promise.all(nodes.map((node) => node.checkpoint()));
      const first = checkpoints[0];
      if (first === undefined) return undefined;
      const same = checkpoints.every((each) => each !== undefined && each.checkpoint.size === first.checkpoint.size && each.checkpoint.root.equals(first.checkpoint.root));
      return same ? first.checkpoint.size : undefined;
    },
    timeoutMs,
    () => describeNodes(nodes),
  );
}

// ---- whole logs ------------------------------------------------------------------------------

/** The RFC 9162 root of a log holding `entries`. */
export function rootOf(entries: readonly LogEntry[]): Buffer {
  const range = CompactRange.empty();
  for (const entry of entries) range.append(hashLeaf(LogEntry.encode(entry).finish()));
  return range.root();
}

export interface NodeLog {
  readonly name: string;
  readonly checkpoint: VerifiedCheckpoint;
  readonly entries: LogEntry[];
}

/** Each node's checkpoint and its entries up to that checkpoint's size. */
export async function readLogs(nodes: readonly NodeClients[]): Promise<NodeLog[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const checkpoint = (await node.checkpoint())!;
      return { name: node.name, checkpoint, entries: await node.entries(checkpoint.checkpoint.size) };
    }),
  );
}

/** Hex of an entry's exact bytes, for comparing logs. */
export function entryHex(entry: LogEntry): string {
  return Buffer.from(LogEntry.encode(entry).finish()).toString("hex");
}

/**
 * Waits until `nodes` serve one checkpoint, then expects their logs identical: the same size and
 * root, the same entries byte for byte, entries whose RFC 9162 root is that root, and every
 * acknowledged statement at its acknowledged index. Returns the size.
 */
export async function expectIdenticalLogs(nodes: readonly NodeClients[], acknowledged: readonly Acknowledged[], timeoutMs = 20_000): Promise<bigint> {
  const size = await waitForAgreement(nodes, timeoutMs);
  const logs = await readLogs(nodes);
  const reference = logs[0]!;
  expect(reference.entries.length).toBe(Number(size));
  expect(rootOf(reference.entries).equals(reference.checkpoint.checkpoint.root)).toBe(true);
  const referenceHex = reference.entries.map(entryHex);
  for (const log of logs.slice(1)) {
    expect({ name: log.name, size: log.checkpoint.checkpoint.size }).toEqual({ name: log.name, size });
    expect(log.checkpoint.checkpoint.root.equals(reference.checkpoint.checkpoint.root)).toBe(true);
    const hex = log.entries.map(entryHex);
    const firstDifference = hex.findIndex((entry, index) => entry !== referenceHex[index]);
    expect({ name: log.name, firstDifference }).toEqual({ name: log.name, firstDifference: -1 });
  }
  expect(missingAcknowledged(acknowledged, reference.entries)).toEqual([]);
  return size;
}

// ---- load ------------------------------------------------------------------------------------

export interface Acknowledged {
  readonly statementId: string;
  readonly logIndex: bigint;
  readonly via: string;
}

/**
 * Keeps submitting small requests of fresh PDQ hashes at each target node, one request in flight
 * per node, until stopped. Records every acknowledgement (statement id and log index): what a
 * member was told is on the log. Errors (a node that is down) are counted and retried after a pause.
 */
export class Load {
  readonly acknowledged: Acknowledged[] = [];
  readonly errors: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    targets: readonly NodeClients[],
    private readonly perRequest = 5,
    private readonly deadlineMs = 30_000,
  ) {
    this.loops = targets.map((target) => this.loop(target));
  }

  /** Stops submitting; resolves when every request in flight has answered (or hit its deadline). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(target: NodeClients): Promise<void> {
    while (this.running) {
      const submissions = Array.from({ length: this.perRequest }, () => addSubmission("pdq", randomHex32()));
      try {
        const response: SubmitResponse = await unary(target.member, target.member.submit, { submissions }, this.deadlineMs);
        for (const ack of response.acknowledgements) {
          this.acknowledged.push({ statementId: Buffer.from(ack.statementId).toString("hex"), logIndex: ack.logIndex, via: target.name });
        }
        await sleep(20);
      } catch (error) {
        this.errors.push(`${target.name}: ${(error as Error).message}`);
        await sleep(100);
      }
    }
  }
}

/** Acknowledged statements that are not at their acknowledged index in `entries`. */
export function missingAcknowledged(acknowledged: readonly Acknowledged[], entries: readonly LogEntry[]): Acknowledged[] {
  return acknowledged.filter((ack) => {
    const entry = entries[Number(ack.logIndex)];
    return entry === undefined || statementIdOf(entry.statement).toString("hex") !== ack.statementId;
  });
}

// ---- auditing checkpoints ----------------------------------------------------------------------

interface Seen {
  readonly size: bigint;
  readonly root: Buffer;
}

/**
 * Polls Log.GetCheckpoint at every node, as an auditor would, until stopped. Every checkpoint served
 * must verify with a quorum of validators' signatures; each node's sequence of distinct checkpoints
 * is kept so that `check` can prove, with the nodes' own consistency proofs, that each log only grew
 * and that all nodes showed one history.
 */
export class CheckpointAuditor {
  /** Per node: the distinct checkpoints it served, in the order seen. */
  readonly seen = new Map<string, Seen[]>();
  readonly failures: string[] = [];
  polls = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly federation: Federation,
    private readonly nodes: readonly NodeClients[],
    private readonly intervalMs = 50,
  ) {
    for (const node of nodes) this.seen.set(node.name, []);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Checkpoints seen in all, over all nodes (distinct per node). */
  get count(): number {
    return [...this.seen.values()].reduce((sum, list) => sum + list.length, 0);
  }

  private async run(): Promise<void> {
    while (this.running) {
      await Promise.all(this.nodes.map((node) => this.poll(node)));
      this.polls++;
      await sleep(this.intervalMs);
    }
  }

  private async poll(node: NodeClients): Promise<void> {
    let note: string;
    try {
      note = (await unary(node.log, node.log.getCheckpoint, {}, 2000)).checkpoint;
    } catch (error) {
      // A node that is down or has an empty log serves nothing to check.
      if (isRpcError(error) && (error.code === status.UNAVAILABLE || error.code === status.NOT_FOUND || error.code === status.DEADLINE_EXCEEDED)) return;
      this.failures.push(`${node.name}: GetCheckpoint failed: ${(error as Error).message}`);
      return;
    }
    let verified: VerifiedCheckpoint;
    try {
      verified = verifyCosignedCheckpoint(this.federation, note);
    } catch (error) {
      this.failures.push(`${node.name} served a checkpoint that does not verify: ${(error as Error).message}\n${note}`);
      return;
    }
    const list = this.seen.get(node.name)!;
    const last = list[list.length - 1];
    const { size, root } = verified.checkpoint;
    if (last === undefined || last.size !== size || !last.root.equals(root)) list.push({ size, root });
  }

  /**
   * Checks, with consistency proofs from the nodes (any that is up: a proof is checked against
   * signed roots, so its source need not be trusted): each node's consecutive distinct checkpoints;
   * equal roots at equal sizes across nodes; and the chain of all distinct checkpoints of all
   * nodes in size order. Returns the failures, with those found while polling.
   */
  async check(): Promise<string[]> {
    const failures = [...this.failures];
    const bySize = new Map<bigint, { root: Buffer; node: string }>();
    for (const [name, list] of this.seen) {
      for (const { size, root } of list) {
        const known = bySize.get(size);
        if (known === undefined) bySize.set(size, { root, node: name });
        else if (!known.root.equals(root)) failures.push(`fork: ${known.node} and ${name} served different roots at size ${size}`);
      }
    }
    for (const [name, list] of this.seen) {
      const own = this.nodes.find((node) => node.name === name)!;
      for (let i = 1; i < list.length; i++) {
        const failure = await this.consistent(list[i - 1]!, list[i]!, [own, ...this.nodes]);
        if (failure !== undefined) failures.push(`${name}'s checkpoints ${list[i - 1]!.size} then ${list[i]!.size}: ${failure}`);
      }
    }
    const chain = [...bySize.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([size, { root }]) => ({ size, root }));
    for (let i = 1; i < chain.length; i++) {
      const failure = await this.consistent(chain[i - 1]!, chain[i]!, this.nodes);
      if (failure !== undefined) failures.push(`across nodes, size ${chain[i - 1]!.size} to ${chain[i]!.size}: ${failure}`);
    }
    return failures;
  }

  /** Undefined when `second` extends `first`, else why not. */
  private async consistent(first: Seen, second: Seen, sources: readonly NodeClients[]): Promise<string | undefined> {
    if (second.size < first.size) return `the log shrank from ${first.size} to ${second.size}`;
    if (second.size === first.size) return first.root.equals(second.root) ? undefined : "two roots at one size";
    if (first.size === 0n) return undefined;
    let lastError = "no node answered";
    for (const source of sources) {
      let proof: Buffer[];
      try {
        proof = (await unary(source.log, source.log.getConsistencyProof, { first: first.size, second: second.size }, 2000)).proof;
      } catch (error) {
        lastError = `${source.name}: ${(error as Error).message}`;
        continue;
      }
      try {
        verifyConsistency(first.size, second.size, first.root, second.root, proof);
        return undefined;
      } catch (error) {
        return `${source.name}'s consistency proof does not verify: ${(error as Error).message}`;
      }
    }
    return `no consistency proof could be fetched (${lastError})`;
  }
}
