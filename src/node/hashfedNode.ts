import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { HashfedError } from "../errors";
import type { PrivateKey } from "../crypto/keys";
import { TOKEN_CHARS_MIN } from "../crypto/keyFile";
import { KeySigner } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import { LogService } from "../gen/hashfed/v1/log";
import { MemberService } from "../gen/hashfed/v1/member";
import { LogStore } from "../store";
import { CommitWaiters } from "../replica/commitWaiters";
import { type Clock, type Entropy, systemClock, SystemEntropy } from "./environment";
import type { ErrorReporter } from "./grpcHandlers";
import { withMalformedRequests } from "./grpcHandlers";
import { Ledger } from "../ledger/ledger";
import { logService } from "./logService";
import { isLoopbackAddress, withBearerToken } from "./memberAccess";
import { memberService } from "./memberService";
import { Mempool } from "../replica/mempool";
import { packageVersion, protoFolder } from "./projectFiles";
import { Ed25519Pool } from "./ed25519Pool";
import { SoloSequencer } from "./soloSequencer";
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
  readonly log: (line: string) => void;
}

export interface NodeModules {
  readonly clock: Clock;
  readonly entropy: Entropy;
}

/** A running hashfed node: its store, its commit path and its two gRPC servers. */
export class HashfedNode {
  private constructor(
    readonly ledger: Ledger,
    /** The submit path, for embedding a node without going through gRPC. */
    readonly intake: SubmissionIntake,
    private readonly ed25519Pool: Ed25519Pool,
    private readonly sequencer: SoloSequencer,
    private readonly servers: Server[],
    readonly memberPort: number,
    readonly publicPort: number,
  ) {}

  static async start(options: NodeOptions, modules: NodeModules = { clock: systemClock, entropy: new SystemEntropy() }): Promise<HashfedNode> {
    const { federation, key, log } = options;
    checkIdentity(federation, key);
    if (!isLoopbackAddress(options.memberAddress) && options.memberToken === undefined) {
      throw new HashfedError("invalid", "MEMBER_ADDRESS_UNGUARDED", `the Member service on ${options.memberAddress} is not loopback: give it a member token`);
    }
    if (options.memberToken !== undefined && options.memberToken.length < TOKEN_CHARS_MIN) {
      throw new HashfedError("invalid", "TOKEN_TOO_SHORT", `a member token has at least ${TOKEN_CHARS_MIN} characters`);
    }
    await mkdir(options.dataDir, { recursive: true });
    const store = await LogStore.open(join(options.dataDir, "store"));
    try {
      await store.bindFederation(federation.id);
      let reported = 0n;
      const ledger = await Ledger.open(federation, store, (done, total) => {
        // About every tenth of the way: a million-entry replay should not print hundreds of lines.
        if (done === total || (done - reported) * 10n >= total) {
          log(`replaying the log: ${done} of ${total} entries`);
          reported = done;
        }
      });
      return await HashfedNode.serve(options, modules, ledger);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  private static async serve(options: NodeOptions, modules: NodeModules, ledger: Ledger): Promise<HashfedNode> {
    const { federation, key, log } = options;
    const report: ErrorReporter = (error, method) => log(`internal error in ${method}: ${(error as Error).stack ?? String(error)}`);
    const signer = new KeySigner(key);
    const mempool = new Mempool({
      statementsMax: federation.parameters.mempoolStatementsMax,
      perSubmitterMax: federation.parameters.mempoolPerSubmitterMax,
    });
    const waiters = new CommitWaiters();
    const sequencer: SoloSequencer = new SoloSequencer({
      federation, ledger, mempool, signer, clock: modules.clock,
      onRejected: (entry, error) => intake.rejected(entry, error),
      onFatal: (error) => {
        log(`fatal: a commit failed, stopping: ${(error as Error).stack ?? String(error)}`);
        process.exit(70);
      },
    });
    const ed25519Pool = new Ed25519Pool(key);
    const intake = new SubmissionIntake({ federation, signer, ed25519Pool, ledger, mempool, waiters, ...modules, onAdmitted: () => sequencer.poke() });
    ledger.onCommit((batch) => {
      const first = Number(ledger.treeSize) - batch.entries.length;
      batch.entries.forEach((entry, offset) => {
        mempool.remove(entry.signed.id);
        waiters.committed(entry.signed.id, first + offset);
      });
    });

    const serverOptions = { "grpc.max_receive_message_length": federation.parameters.messageBytesMax };
    const memberServer = new Server(serverOptions);
    const member = memberService({ ledger, intake, mempool, memberName: key.name, version: packageVersion(), report });
    const guarded = options.memberToken === undefined ? member : withBearerToken(MemberService, member, options.memberToken);
    memberServer.addService(withMalformedRequests(MemberService), guarded);
    const publicServer = new Server(serverOptions);
    publicServer.addService(withMalformedRequests(LogService), logService(ledger, report));
    addHealthAndReflection(memberServer, "hashfed.v1.Member", "hashfed/v1/member.proto");
    addHealthAndReflection(publicServer, "hashfed.v1.Log", "hashfed/v1/log.proto");

    const publicAddress = options.publicAddress ?? memberByName(federation, key.name)!.address;
    let ports: [number, number];
    try {
      ports = [await bind(memberServer, options.memberAddress), await bind(publicServer, publicAddress)];
    } catch (error) {
      // Half a node must not stay up: a Member service without its Log service misleads operators.
      memberServer.forceShutdown();
      publicServer.forceShutdown();
      await ed25519Pool.close();
      throw error;
    }
    const [memberPort, publicPort] = ports;
    log(`${key.name}: Member service on ${options.memberAddress} (port ${memberPort}), Log service on ${publicAddress} (port ${publicPort}); log size ${ledger.treeSize}`);
    return new HashfedNode(ledger, intake, ed25519Pool, sequencer, [memberServer, publicServer], memberPort, publicPort);
  }

  /**
   * Stops serving (calls still open after a grace period, such as Follow streams, are cut), lets
   * the batch being written finish, and closes the store.
   */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => shutdown(server)));
    await this.sequencer.stop();
    await this.ed25519Pool.close();
    await this.ledger.store.close();
  }
}

function checkIdentity(federation: Federation, key: PrivateKey): void {
  const member = memberByName(federation, key.name);
  if (member === undefined) {
    throw new HashfedError("invalid", "NOT_A_MEMBER", `the key is for ${JSON.stringify(key.name)}, who is not a member of the federation`);
  }
  if (!member.key.publicKey.equals(key.publicKey)) {
    throw new HashfedError("invalid", "KEY_MISMATCH", `the key is not ${key.name}'s key in the federation file (${member.key.text})`);
  }
  if (federation.validators.length !== 1 || federation.validators[0]!.name !== key.name) {
    throw new HashfedError(
      "invalid",
      "CONSENSUS_UNAVAILABLE",
      `this node decides batches alone, so its federation must have exactly one validator, itself; this one has ${federation.validators.length}`,
    );
  }
}

/** Health checking for the node ("") and its one service; reflection describing that service only. */
function addHealthAndReflection(server: Server, service: string, protoFile: string): void {
  new HealthImplementation({ "": "SERVING", [service]: "SERVING" }).addToServer(server);
  new ReflectionService(loadSync(protoFile, { includeDirs: [protoFolder()] })).addToServer(server);
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

function bind(server: Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => {
      if (error !== null) reject(new HashfedError("unavailable", "BIND_FAILED", `cannot listen on ${address}: ${error.message}`));
      else resolve(port);
    });
  });
}
