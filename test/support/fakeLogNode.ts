import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { HashfedError } from "../../src/errors";
import { grpcStatusOf } from "../../src/node/grpcHandlers";
import { LOG_BUSY } from "../../src/node/servedEntriesBudget";
import { formatNote, signNoteText } from "../../src/crypto";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { type LogServer, LogService } from "../../src/gen/hashfed/v1/log";
import { formatCheckpoint, hashLeaf } from "../../src/log";
import type { SignedStatement } from "../../src/statements";
import { ReferenceTree } from "../log/referenceTree";
import type { FederationFixture, TestMember } from "./statements";

/**
 * A Log service that serves whatever a test tells it to, to play a node that misbehaves: a log built
 * in memory with the test's own validator keys, so it can be cosigned by a quorum (or not), with
 * entries served as they are in the tree or swapped, and proofs computed from a reference tree or
 * replaced. Built on the generated service definition, as a real node's is.
 */
export interface ServedLog {
  /** The cosigned checkpoint note; undefined serves an empty log (NOT_FOUND). */
  readonly checkpoint: string | undefined;
  /** The tree proofs are computed from. */
  readonly tree: ReferenceTree;
  /** What GetEntries serves, by index; by default the statements the tree was built from. */
  readonly entries: readonly SignedStatement[];
  /** Replaces every consistency proof, to play a node that sends garbage. */
  readonly consistencyProof?: (first: number, second: number) => Buffer[];
  /** Answers every call RESOURCE_EXHAUSTED, as a node whose Log service is at its limit does. */
  readonly busy?: boolean;
  /** Calls answered UNAVAILABLE, as by a node that times out on them. */
  readonly unavailable?: readonly ProofOrEntriesCall[];
  /** Entries served only below this index; beyond, UNAVAILABLE, as by a node gone away partway. */
  readonly entriesBelow?: number;
}

export type ProofOrEntriesCall = "getEntries" | "getInclusionProof" | "getConsistencyProof";

/** A log of `statements` whose checkpoint at its full size is cosigned by `signers`. */
export function servedLog(fixture: FederationFixture, statements: readonly SignedStatement[], signers: readonly TestMember[]): ServedLog {
  const tree = new ReferenceTree(statements.map((signed) => hashLeaf(signed.entryBytes)));
  return { checkpoint: cosign(fixture, statements.length, tree.hash(0, statements.length), signers), tree, entries: statements };
}

/** A checkpoint of `size` and `root` for the fixture's origin, cosigned by `signers`. */
export function cosign(fixture: FederationFixture, size: number, root: Buffer, signers: readonly TestMember[]): string {
  const text = formatCheckpoint({ origin: fixture.federation.origin, size: BigInt(size), root, extensions: [] });
  return formatNote({ text, signatures: signers.map((member) => signNoteText(text, member.key)) });
}

export class FakeLogNode {
  private served: ServedLog | undefined;

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(): Promise<FakeLogNode> {
    const server = new Server();
    let node: FakeLogNode | undefined;
    server.addService(LogService, handlers(() => node!.served));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    node = new FakeLogNode(server, `127.0.0.1:${port}`);
    return node;
  }

  serve(log: ServedLog): void {
    this.served = log;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

/** Thrown by a handler playing a node that stopped answering. */
class NodeGone extends Error {
  constructor() {
    super("the node stopped answering");
  }
}

type Handler<Request, Response> = (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void;

function answer<Request, Response>(current: () => ServedLog | undefined, respond: (request: Request, log: ServedLog) => Response, name?: ProofOrEntriesCall): Handler<Request, Response> {
  return (call, callback) => {
    const log = current();
    if (log === undefined) return callback({ code: status.UNAVAILABLE, details: "nothing served yet" });
    if (name !== undefined && log.unavailable?.includes(name) === true) return callback({ code: status.UNAVAILABLE, details: `${name} is not answered now` });
    if (log.busy === true) return callback(grpcStatusOf(new HashfedError("exhausted", LOG_BUSY, "256 calls are waiting; retry later"), "fake", () => {}));
    try {
      callback(null, respond(call.request, log));
    } catch (error) {
      callback({ code: error instanceof NodeGone ? status.UNAVAILABLE : status.INVALID_ARGUMENT, details: (error as Error).message });
    }
  };
}

function handlers(current: () => ServedLog | undefined): LogServer {
  const refuse: Handler<unknown, never> = (_call, callback) => callback({ code: status.UNIMPLEMENTED, details: "not served by the fake" });
  return {
    getCheckpoint: (call, callback) => {
      const log = current();
      if (log?.checkpoint === undefined && log?.busy !== true) return callback({ code: status.NOT_FOUND, details: "the log is empty" });
      answer(current, () => ({ checkpoint: log.checkpoint! }))(call, callback);
    },
    getEntries: answer(
      current,
      ({ start, end }, log) => {
        if (end > (log.entriesBelow ?? Infinity)) throw new NodeGone();
        return { entries: log.entries.slice(Number(start), Number(end)).map((signed) => LogEntry.decode(signed.entryBytes)) };
      },
      "getEntries",
    ),
    getInclusionProof: answer(
      current,
      ({ index, treeSize }, log) => ({ proof: log.tree.path(Number(index), 0, Number(treeSize)), leafHash: log.tree.leafHashes[Number(index)]!, treeSize }),
      "getInclusionProof",
    ),
    getConsistencyProof: answer(
      current,
      ({ first, second }, log) => ({
        proof: log.consistencyProof?.(Number(first), Number(second)) ?? log.tree.consistency(Number(first), Number(second)),
        leafHash: Buffer.alloc(0),
        treeSize: second,
      }),
      "getConsistencyProof",
    ),
    getFederation: refuse,
    getBatch: refuse,
    getEvidence: refuse,
  };
}
