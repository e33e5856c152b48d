import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { assert } from "../assert";
import { SIGNATURE_BYTES } from "../crypto";
import { domainMessage } from "../crypto/signingDomain";
import type { Federation } from "../federation";
import type { PreparedEntries } from "./logReplay";

/**
 * The worker's whole program: Ed25519 verification of statement signatures with the federation's
 * member keys, given at start. A request is one set of transferred buffers for a whole run of
 * entries (the domain-prefixed messages end to end with their end offsets, the signatures, the key
 * of each), so posting a thousand checks costs one message, not a thousand cloned objects. Kept
 * self-contained (plain JavaScript, node:crypto only) so it runs the same from the sources and from
 * the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createPublicKey, verify } = require("node:crypto");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const keys = workerData.publicKeys.map((raw) => createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(raw)]), format: "der", type: "spki" }));
parentPort.on("message", ({ id, messages, messageEnds, signatures, keyIndexes }) => {
  const valid = new Uint8Array(keyIndexes.length);
  let start = 0;
  for (let i = 0; i < keyIndexes.length; i++) {
    const end = messageEnds[i];
    valid[i] = verify(null, messages.subarray(start, end), keys[keyIndexes[i]], signatures.subarray(i * 64, i * 64 + 64)) ? 1 : 0;
    start = end;
  }
  parentPort.postMessage({ id, valid }, [valid.buffer]);
});
`;

interface PendingRequest {
  resolve(valid: Uint8Array): void;
  reject(error: Error): void;
}

/** The prefix every statement signature covers (signingDomain.ts). */
const STATEMENT_PREFIX = domainMessage("statement", new Uint8Array(0));

/**
 * Statement signatures checked on worker threads, a run of entries per request, so that a full
 * replay verifies on every core while the main thread fetches, parses and hashes. A worker that
 * fails fails every request it holds: the audit stops rather than report entries it did not check.
 */
export class SignatureWorkers {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, PendingRequest>();
  private readonly keyIndexByMember: ReadonlyMap<string, number>;
  private nextWorker = 0;
  private nextRequest = 0;
  private failure: Error | undefined;

  constructor(federation: Federation, size = defaultWorkerCount()) {
    assert(size >= 1, "at least one signature worker");
    this.keyIndexByMember = new Map(federation.members.map((member, index) => [member.name, index]));
    const publicKeys = federation.members.map((member) => Uint8Array.from(member.key.publicKey));
    for (let i = 0; i < size; i++) this.workers.push(this.spawn(publicKeys));
  }

  /** Whether each prepared entry's signature verifies under its submitter's key, in entry order (1 or 0). */
  verify(prepared: PreparedEntries): Promise<Uint8Array> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const count = prepared.statements.length;
    if (count === 0) return Promise.resolve(new Uint8Array(0));
    const messageBytes = prepared.statements.reduce((total, signed) => total + STATEMENT_PREFIX.length + signed.bytes.length, 0);
    const messages = new Uint8Array(messageBytes);
    const messageEnds = new Uint32Array(count);
    const signatures = new Uint8Array(count * SIGNATURE_BYTES);
    const keyIndexes = new Uint16Array(count);
    let offset = 0;
    prepared.statements.forEach((signed, i) => {
      messages.set(STATEMENT_PREFIX, offset);
      messages.set(signed.bytes, offset + STATEMENT_PREFIX.length);
      offset += STATEMENT_PREFIX.length + signed.bytes.length;
      messageEnds[i] = offset;
      assert(signed.signature.length === SIGNATURE_BYTES, "a parsed statement has a 64-byte signature");
      signatures.set(signed.signature, i * SIGNATURE_BYTES);
      keyIndexes[i] = this.keyIndexByMember.get(prepared.submitters[i]!.name)!;
    });
    const id = this.nextRequest++;
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, messages, messageEnds, signatures, keyIndexes }, [messages.buffer, messageEnds.buffer, signatures.buffer, keyIndexes.buffer]);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error("the signature workers were closed");
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private spawn(publicKeys: Uint8Array[]): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { publicKeys } });
    worker.on("message", ({ id, valid }: { id: number; valid: Uint8Array }) => {
      const request = this.pending.get(id);
      this.pending.delete(id);
      request?.resolve(valid);
    });
    const fail = (error: Error): void => {
      if (this.failure === undefined) this.failure = error;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`a signature worker exited with code ${code}`)));
    // Referenced: while a replay waits only on its workers, they are what keeps the process alive.
    return worker;
  }
}

/** One worker per core: the main thread's share (fetching, parsing, hashing) is small beside verification. */
function defaultWorkerCount(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}
