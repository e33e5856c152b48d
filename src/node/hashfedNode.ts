import { isIPv4 } from "node:net";
import { join } from "node:path";
import { chmod, mkdir, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { type ChannelOptions, Server, ServerCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { HashfedError } from "../errors";
import type { PrivateKey } from "../crypto/keys";
import { TOKEN_CHARS_MIN } from "../crypto/keyFile";
import { KeySigner, type Signer } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import { LogService } from "../gen/hashfed/v1/log";
import { MemberService } from "../gen/hashfed/v1/member";
import { PeerService } from "../gen/hashfed/v1/peer";
import { PeerNetwork } from "../peer/peerNetwork";
import { LinkKeyLogFile } from "../peer/linkKeyLog";
import { Replica } from "../replica/replica";
import { LevelKeyValueStore } from "../store";
import type { KeyValueStore } from "../store/keyValueStore";
import { type Clock, type Entropy, systemClock, SystemEntropy, systemTimers } from "./environment";
import type { ErrorReporter } from "./grpcHandlers";
import { withMalformedRequests } from "./grpcHandlers";
import type { Ledger } from "../ledger/ledger";
import { ClockLeadNotices } from "./clockLeads";
import { MatchIndexing } from "./matchIndexing";
import { LOG_CALLS_WAITING_MAX, LOG_CALLS_WAITING_PER_CALLER_MAX, LOG_ENTRIES_PER_SECOND_MAX, logService } from "./logService";
import { ServedEntriesBudget } from "./servedEntriesBudget";
import { bearerTokenInterceptor, isLoopbackAddress } from "./memberAccess";
import { checkMemberTls, type MemberTls, memberServerCredentials, memberTlsDateNotice } from "./memberTls";
import { ConnectionGate } from "./connectionGate";
import { type GatedListener, type GatedListenerOptions, hostAndPortOf, listenGated } from "./gatedListener";
import { RefusalLog } from "../peer/refusalLog";
import { memberService } from "./memberService";
import { packageVersion, protoFolder } from "./projectFiles";
import { Ed25519Pool } from "./ed25519Pool";
import { SubmissionIntake } from "./submissionIntake";

export interface NodeOptions {
  /** Holds the LevelDB store in `store/`. */
  readonly dataDir: string;
  readonly federation: Federation;
  readonly key: PrivateKey;
  /** Where the Member service listens; loopback unless a member token is set. */
  readonly memberAddress: string;
  /** Where the Log service listens; by default the member's address in the federation file. */
  readonly publicAddress?: string;
  readonly memberToken?: string;
  /** A second token that may call only Match and Status (see MemberTokens); needs memberToken. */
  readonly matchOnlyToken?: string;
  /** TLS for the Member service; required off loopback, where a token and the reveals would otherwise travel in the clear. */
  readonly memberTls?: MemberTls;
  /** A file to append the peer links' keys to, for reading captured traffic (see src/peer/linkKeyLog.ts); never by default. */
  readonly peerKeyLog?: string;
  readonly log: (line: string) => void;
  /** A failed internal check: by default the process stops (exit 70), the safe way to fail. */
  readonly onFatal?: (error: unknown) => void;
}

export interface NodeModules {
  readonly clock: Clock;
  readonly entropy: Entropy;
}

/** A running hashfed node: its store, its commit path and its two gRPC servers. */
export class HashfedNode {
  private constructor(
    readonly ledger: Ledger,
    private readonly indexing: MatchIndexing,
    private readonly clockLeadNotices: ClockLeadNotices,
    /** The submit path, for embedding a node without going through gRPC. */
    readonly intake: SubmissionIntake,
    /** The validator this node runs; for embedding and tests. */
    readonly replica: Replica,
    private readonly ed25519Pool: Ed25519Pool,
    private readonly peers: PeerNetwork,
    private readonly kv: KeyValueStore,
    private readonly servers: Server[],
    private readonly listeners: GatedListener[],
    private readonly logBudget: ServedEntriesBudget,
    readonly memberPort: number,
    readonly publicPort: number,
  ) {}

  static async start(options: NodeOptions, modules: NodeModules = { clock: systemClock, entropy: new SystemEntropy() }): Promise<HashfedNode> {
    const { federation, key } = options;
    checkIdentity(federation, key);
    checkPortsApart(options.memberAddress, options.publicAddress ?? memberByName(federation, key.name)!.address);
    if (!isLoopbackAddress(options.memberAddress)) checkGuardedOffLoopback(options);
    if (options.memberTls !== undefined) {
      checkMemberTls(options.memberTls);
      const notice = memberTlsDateNotice(options.memberTls, Number(modules.clock.nowMs()));
      if (notice !== undefined) options.log(notice);
    }
    if (options.memberToken !== undefined && options.memberToken.length < TOKEN_CHARS_MIN) {
      throw new HashfedError("invalid", "TOKEN_TOO_SHORT", `a member token has at least ${TOKEN_CHARS_MIN} characters`);
    }
    if (options.matchOnlyToken !== undefined) checkMatchOnlyToken(options.matchOnlyToken, options.memberToken);
    await ownerOnlyFolder(options.dataDir, options.log);
    const keyLog = options.peerKeyLog === undefined ? undefined : LinkKeyLogFile.open(options.peerKeyLog, options.log);
    let kv: KeyValueStore;
    try {
      kv = await LevelKeyValueStore.open(join(options.dataDir, "store"));
    } catch (error) {
      keyLog?.close();
      throw error;
    }
    const signer = new KeySigner(key);
    const publicGate = new ConnectionGate(CONNECTIONS_PER_CLIENT_MAX, CONNECTIONS_PER_PORT_MAX);
    const peers = new PeerNetwork({ federation, signer, entropy: modules.entropy, log: options.log, keyLog, memberProvedAt: (address) => publicGate.reserve(address) });
    const ed25519Pool = new Ed25519Pool(key);
    let replica: Replica | undefined;
    try {
      replica = await Replica.open({
        federation,
        signer,
        kv,
        transport: peers,
        timers: systemTimers,
        verifier: ed25519Pool,
        log: options.log,
        progress: replayProgress(options.log),
        onFatal: options.onFatal ?? ((error) => {
          // A node's own refusal says what to do; anything else is a bug, whose stack helps.
          const what = error instanceof HashfedError ? `${error.code}: ${error.message}` : ((error as Error).stack ?? String(error));
          options.log(`fatal: ${what}; stopping`);
          process.exit(70);
        }),
      });
      const started = replica;
      peers.attach((from, message) => started.receive(from, message));
      return await HashfedNode.serve(options, modules, signer, replica, peers, publicGate, kv, ed25519Pool);
    } catch (error) {
      if (replica !== undefined) {
        replica.close();
        await replica.idle(); // the store closes next: no write may still be in flight
      }
      peers.close();
      await ed25519Pool.close();
      await kv.close();
      throw error;
    }
  }

  private static async serve(
    options: NodeOptions,
    modules: NodeModules,
    signer: Signer,
    replica: Replica,
    peers: PeerNetwork,
    publicGate: ConnectionGate,
    kv: KeyValueStore,
    ed25519Pool: Ed25519Pool,
  ): Promise<HashfedNode> {
    const { federation, key, log } = options;
    const { ledger } = replica;
    const publicAddress = options.publicAddress ?? memberByName(federation, key.name)!.address;
    const indexing = new MatchIndexing(ledger);
    const clockLeadNotices = new ClockLeadNotices(ledger, federation, key.name, modules.clock, log);
    const servers: Server[] = [];
    const listeners: GatedListener[] = [];
    const logBudget = new ServedEntriesBudget(LOG_ENTRIES_PER_SECOND_MAX, LOG_CALLS_WAITING_MAX, LOG_CALLS_WAITING_PER_CALLER_MAX);
    let intake: SubmissionIntake;
    try {
      const indexStart = performance.now();
      indexing.catchUp();
      log(`${key.name}: match index built in ${((performance.now() - indexStart) / 1000).toFixed(2)} s (${ledger.index.pdqHashes} PDQ hashes)`);
      const report: ErrorReporter = (error, method) => log(`internal error in ${method}: ${(error as Error).stack ?? String(error)}`);
      intake = new SubmissionIntake({ federation, signer, ed25519Pool, replica, ...modules });

      const serverOptions = serverLimits(federation.parameters.messageBytesMax);
      const tokens = options.memberToken === undefined ? undefined : { member: options.memberToken, matchOnly: options.matchOnlyToken };
      const interceptors = tokens === undefined ? [] : [bearerTokenInterceptor("hashfed.v1.Member", tokens)];
      const memberServer = new Server({ ...serverOptions, interceptors });
      servers.push(memberServer);
      const member = memberService({ ledger, intake, replica, memberName: key.name, version: packageVersion(), report, peers, clock: modules.clock });
      memberServer.addService(withMalformedRequests(MemberService), member);
      const publicServer = new Server(serverOptions);
      servers.push(publicServer);
      publicServer.addService(withMalformedRequests(LogService), logService(ledger, replica, report, logBudget));
      publicServer.addService(withMalformedRequests(PeerService), peers.service);
      addHealthAndReflection(memberServer, ["hashfed.v1.Member"], ["hashfed/v1/member.proto"]);
      addHealthAndReflection(publicServer, ["hashfed.v1.Log", "hashfed.v1.Peer"], ["hashfed/v1/log.proto", "hashfed/v1/peer.proto"]);
      const gated = (gate: ConnectionGate): GatedListenerOptions => ({ gate, refusals: new RefusalLog(log, () => performance.now(), "connections"), log });
      warnIfFewDescriptors(log);
      // The Member port's clients are the member's own systems, many of them often behind one address
      // (a scanning fleet behind a gateway): only the port's total is bounded there.
      const memberGate = new ConnectionGate(CONNECTIONS_PER_PORT_MAX, CONNECTIONS_PER_PORT_MAX);
      // Taken for loopback by its name: unless guarded anyway, it must resolve to loopback here too.
      const unguarded = isLoopbackAddress(options.memberAddress) && (options.memberToken === undefined || options.memberTls === undefined);
      const loopbackOnly = unguarded ? "the Member service without a token or TLS" : undefined;
      listeners.push(await listenGated(memberServer, options.memberAddress, memberServerCredentials(options.memberTls), { ...gated(memberGate), loopbackOnly }));
      listeners.push(await listenGated(publicServer, publicAddress, ServerCredentials.createInsecure(), gated(publicGate)));
    } catch (error) {
      // Half a node must not stay up: a Member service without its Log service misleads operators.
      const closing = listeners.map((listener) => listener.close(0));
      for (const server of servers) server.forceShutdown();
      await Promise.all(closing);
      indexing.stop();
      clockLeadNotices.stop();
      throw error;
    }
    const [memberPort, publicPort] = listeners.map((listener) => listener.port) as [number, number];
    log(`${key.name}: Member service on ${options.memberAddress} (port ${memberPort}${options.memberTls === undefined ? "" : ", TLS"}), Log and Peer services on ${publicAddress} (port ${publicPort}); log size ${ledger.treeSize}`);
    return new HashfedNode(ledger, indexing, clockLeadNotices, intake, replica, ed25519Pool, peers, kv, servers, listeners, logBudget, memberPort, publicPort);
  }

  /**
   * Stops serving (calls still open after a grace period, such as Follow streams, are cut), lets
   * the batch being written finish, and closes the store.
   */
  async stop(): Promise<void> {
    await Promise.all([...this.servers.map((server) => shutdown(server)), ...this.listeners.map((listener) => listener.close(SHUTDOWN_GRACE_MS))]);
    // Log calls still waiting for their turn would read a closed store.
    this.logBudget.close();
    this.indexing.stop();
    this.clockLeadNotices.stop();
    this.replica.close();
    await this.replica.idle();
    this.peers.close();
    await this.ed25519Pool.close();
    await this.kv.close();
  }
}

/**
 * Connections a port holds at once, from one client and in all (ConnectionGate): a federation's
 * peers and auditors need a few each. With LevelDB's thousand open files, both ports full take
 * about 3,100 file descriptors (see warnIfFewDescriptors).
 */
export const CONNECTIONS_PER_CLIENT_MAX = 32;
export const CONNECTIONS_PER_PORT_MAX = 1024;
/** Descriptors the node may hold at most: both ports full, LevelDB's open files, and some to spare. */
const DESCRIPTORS_NEEDED = 2 * CONNECTIONS_PER_PORT_MAX + 1000 + 500;

/** Says at start when the process may run out of file descriptors before its ports are full (read on Linux; elsewhere nothing is said). */
function warnIfFewDescriptors(log: (line: string) => void): void {
  let limits: string;
  try {
    limits = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return;
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
  if (soft < DESCRIPTORS_NEEDED) log(`this process may open ${soft} files; a node with both ports full needs about ${DESCRIPTORS_NEEDED}: raise its limit (ulimit -n, LimitNOFILE)`);
}

/** Calls open at once on one connection: each Log call can read and encode about 300 KB. */
export const CALLS_PER_CONNECTION_MAX = 100;

/**
 * What one connection may hold, for a caller anyone can be (the Log service is public): grpc-js
 * leaves the number of calls per connection and the memory of replies not yet read unbounded, so
 * a caller that asks for batches and never reads them could fill the node's memory. Past the
 * session memory (data queued to send included) new calls on that connection are refused until
 * it drains (grpc-js turns Node's limit off by default). Keepalive pings find connections that
 * died silently, whose Follow streams would otherwise hold their slots.
 */
function serverLimits(messageBytesMax: number): ChannelOptions {
  return {
    "grpc.max_receive_message_length": messageBytesMax,
    "grpc.max_concurrent_streams": CALLS_PER_CONNECTION_MAX,
    // In MB (10^6 bytes): twice a peer link's four maximum-size messages each way, so that a peer's
    // stream (it reconnects on the same connection) is never refused for what its own link holds.
    "grpc-node.max_session_memory": Math.max(128, Math.ceil((16 * messageBytesMax) / 1e6)),
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    // A connection with no call for this long is closed (its client reconnects when it needs to):
    // idle ones had held their places in the ConnectionGate for good.
    "grpc.max_connection_idle_ms": 300_000,
  };
}

/** Logs a start-up replay about every tenth of the way: a million entries should not print hundreds of lines. */
function replayProgress(log: (line: string) => void): (done: bigint, total: bigint) => void {
  let reported = 0n;
  return (done, total) => {
    if (done === total || (done - reported) * 10n >= total) {
      log(`replaying the log: ${done} of ${total} entries`);
      reported = done;
    }
  };
}

function checkIdentity(federation: Federation, key: PrivateKey): void {
  const member = memberByName(federation, key.name);
  if (member === undefined) {
    throw new HashfedError("invalid", "NOT_A_MEMBER", `the key is for ${JSON.stringify(key.name)}, who is not a member of the federation`);
  }
  if (!member.key.publicKey.equals(key.publicKey)) {
    throw new HashfedError("invalid", "KEY_MISMATCH", `the key is not ${key.name}'s key in the federation file (${member.key.text})`);
  }
}

/** Health checking for the node ("") and the services of one port; reflection describing those only. */
function addHealthAndReflection(server: Server, services: readonly string[], protoFiles: readonly string[]): void {
  new HealthImplementation(Object.fromEntries([["", "SERVING"], ...services.map((service) => [service, "SERVING"])])).addToServer(server);
  new ReflectionService(loadSync([...protoFiles], { includeDirs: [protoFolder()] })).addToServer(server);
}

const SHUTDOWN_GRACE_MS = 2000;

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

/**
 * One port cannot serve both the Member service and the Log and Peer services: the bind had failed
 * blaming "another process". They clash on one host, or where one is every address of a family the
 * other's host is in (:: takes IPv4 too, as Node binds it).
 */
function checkPortsApart(memberAddress: string, publicAddress: string): void {
  const member = hostAndPortOf(memberAddress);
  const open = hostAndPortOf(publicAddress);
  const covers = (any: string, host: string): boolean => any === "::" || (any === "0.0.0.0" && isIPv4(host));
  const clash = member.host === open.host || covers(member.host, open.host) || covers(open.host, member.host);
  if (member.port === 0 || member.port !== open.port || !clash) return;
  throw new HashfedError(
    "invalid",
    "PORTS_NOT_APART",
    `the Member service (--member-listen ${memberAddress}) and the Log and Peer services (${publicAddress}) are given one port: give them two`,
  );
}

/**
 * Off loopback the Member service needs a member token (it signs with the member's key, so it must
 * know who calls) and TLS (the token is a bearer secret, and its answers carry the reveals, the
 * hashes themselves): one refusal names whatever is missing.
 */
function checkGuardedOffLoopback(options: NodeOptions): void {
  const missing = [
    ...(options.memberToken === undefined ? ["a member token (--member-token-file)"] : []),
    ...(options.memberTls === undefined ? ["TLS (--member-tls-cert, --member-tls-key), or its token and the reveals it serves cross the network in the clear"] : []),
  ];
  if (missing.length === 0) return;
  const code = options.memberToken === undefined ? "MEMBER_ADDRESS_UNGUARDED" : "MEMBER_ADDRESS_UNENCRYPTED";
  throw new HashfedError("invalid", code, `the Member service on ${options.memberAddress} is not loopback: give it ${missing.join(" and ")}`);
}

/** A match-only token narrows a member token: alone it would leave every other method open, and one equal to it would narrow nothing. */
function checkMatchOnlyToken(matchOnly: string, member: string | undefined): void {
  if (member === undefined) throw new HashfedError("invalid", "MATCH_TOKEN_ALONE", "a match-only token needs a member token beside it (--member-token-file): without one, every method is open and the match-only token limits nothing");
  if (matchOnly.length < TOKEN_CHARS_MIN) throw new HashfedError("invalid", "TOKEN_TOO_SHORT", `a match-only token has at least ${TOKEN_CHARS_MIN} characters`);
  if (matchOnly === member) throw new HashfedError("invalid", "MATCH_TOKEN_SAME", "the match-only token is the member token: give it a token of its own");
}

/**
 * The data folder, made owner-only (0700): the store holds every reveal, the hashes themselves, as
 * secret as the key. One that group or others could reach is closed, and the node says so.
 */
async function ownerOnlyFolder(path: string, log: (line: string) => void): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw new HashfedError("invalid", "DATA_NOT_A_FOLDER", `the data folder ${path} is a file (or lies under one); give a folder`);
    throw error;
  });
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  await chmod(path, 0o700);
  log(`the data folder ${path} had mode ${mode.toString(8).padStart(4, "0")}; it holds every reveal, so it is now 0700`);
}
