import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { status } from "@grpc/grpc-js";
import { call, type Connection, connectLog, describeRpcError, errorCodeOf, isRpcError, type UnaryMethod } from "../client/rpc";
import { LOG_BUSY } from "../node/servedEntriesBudget";
import { HashfedError, invalid } from "../errors";
import { type GetEntriesRequest, type LogClient, LogService } from "../gen/hashfed/v1/log";
import { HASH_BYTES } from "../log";
import type { ServedInclusionProof } from "./entryInclusion";

/** At most this many entries per GetEntries call (the Log service's limit). */
export const ENTRIES_PER_CALL_MAX = 1000n;

/**
 * One node's Log service as the auditor sees it: every answer is untrusted input, so each is
 * checked for shape here (entry counts, echoed sizes, hash lengths) before the audit looks at its
 * meaning. Failures are HashfedErrors naming the node: kind "unavailable" when the node could not
 * be reached, did not answer in time or was too busy to (LOG_BUSY), "precondition" when it answered
 * with an error.
 */
export class LogNode {
  private readonly connection: Connection<LogClient>;

  constructor(
    readonly address: string,
    private readonly deadlineMs: number,
  ) {
    this.connection = connectLog(address);
  }

  /** The latest cosigned checkpoint note, or undefined while the node's log is empty. */
  async checkpoint(): Promise<string | undefined> {
    try {
      return (await this.request(this.connection.client.getCheckpoint, {})).checkpoint;
    } catch (error) {
      // NOT_FOUND is how the Log service says that nothing has been committed yet.
      if (error instanceof HashfedError && error.kind === "not-found") return undefined;
      throw error;
    }
  }

  /**
   * The leaves [start, end): each entry's bytes exactly as the node sent them, which must be what
   * the tree hashes (see parseLogEntryLeaf). Requires 0 < end - start <= ENTRIES_PER_CALL_MAX.
   */
  async leaves(start: bigint, end: bigint): Promise<Buffer[]> {
    const answer = await this.request<GetEntriesRequest, Buffer[] | string>(
      (request, metadata, options, callback) =>
        this.connection.client.makeUnaryRequest(LogService.getEntries.path, LogService.getEntries.requestSerialize, splitEntries, request, metadata, options, (error, answer) => callback(error, answer!)),
      { start, end },
    );
    if (typeof answer === "string") throw this.malformed(`its answer to GetEntries is not a list of entries: ${answer}`);
    if (BigInt(answer.length) !== end - start) throw this.malformed(`asked for entries [${start}, ${end}), it sent ${answer.length} entries`);
    return answer;
  }

  async inclusionProof(index: bigint, treeSize: bigint): Promise<ServedInclusionProof> {
    const response = await this.request(this.connection.client.getInclusionProof, { index, treeSize });
    if (response.treeSize !== treeSize) throw this.malformed(`asked for a proof in the tree of size ${treeSize}, it sent one for size ${response.treeSize}`);
    if (response.leafHash.length !== HASH_BYTES) throw this.malformed(`the leaf hash of entry ${index} is ${response.leafHash.length} bytes, not ${HASH_BYTES}`);
    return { leafHash: Buffer.from(response.leafHash), hashes: response.proof.map((hash) => Buffer.from(hash)) };
  }

  async consistencyProof(first: bigint, second: bigint): Promise<Buffer[]> {
    const response = await this.request(this.connection.client.getConsistencyProof, { first, second });
    if (response.treeSize !== second) throw this.malformed(`asked for a proof to the tree of size ${second}, it sent one to size ${response.treeSize}`);
    return response.proof.map((hash) => Buffer.from(hash));
  }

  close(): void {
    this.connection.client.close();
  }

  private async request<Request, Response>(method: UnaryMethod<Request, Response>, request: Request): Promise<Response> {
    try {
      return await call(this.connection, method, request, this.deadlineMs);
    } catch (error) {
      if (!isRpcError(error)) throw error;
      if (error.code === status.NOT_FOUND) throw new HashfedError("not-found", "NODE_NOT_FOUND", `${this.address}: ${describeRpcError(error)}`);
      // A node at its Log service's limit has not refused anything: it may answer later. (Other
      // RESOURCE_EXHAUSTED, such as an answer above this client's message limit, are refusals.)
      if (errorCodeOf(error) === LOG_BUSY) throw new HashfedError("unavailable", "NODE_BUSY", `${this.address}: ${describeRpcError(error)}`);
      const unreachable = [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED].includes(error.code);
      throw new HashfedError(unreachable ? "unavailable" : "precondition", unreachable ? "NODE_UNREACHABLE" : "NODE_REFUSED", `${this.address}: ${describeRpcError(error)}`);
    }
  }

  private malformed(message: string): HashfedError {
    return invalid("NODE_ANSWER_MALFORMED", `${this.address}: ${message}`);
  }
}

/** GetEntriesResponse's only field: entries, repeated bytes. */
const ENTRIES_FIELD = 1;

/**
 * GetEntriesResponse without decoding its entries: the bytes of each one, viewed in place. Anything
 * but a run of field 1 comes back as a description of what is wrong (a deserializer must not throw).
 */
function splitEntries(response: Buffer): Buffer[] | string {
  const leaves: Buffer[] = [];
  const reader = new BinaryReader(response);
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== ENTRIES_FIELD || wireType !== WireType.LengthDelimited) return `unexpected field ${field} (wire type ${wireType}) after ${leaves.length} entries`;
      const leaf = reader.bytes();
      leaves.push(Buffer.from(leaf.buffer, leaf.byteOffset, leaf.byteLength));
    }
  } catch (error) {
    return `entry ${leaves.length}: ${(error as Error).message}`;
  }
  return leaves;
}
