import { Worker } from "node:worker_threads";
import { cpus } from "node:os";
import type { KeyObject } from "node:crypto";
import { signEd25519 } from "../crypto/ed25519";
import type { PrivateKey, VerifierKey } from "../crypto/keys";
import { domainMessage, type SigningDomain } from "../crypto/signingDomain";
import { inThreadVerifier } from "../replica/signatureChecks";

/**
 * The worker's whole program: Ed25519 signatures with the node's key, and verifications with any
 * key it is given. Kept self-contained (plain JavaScript, node:crypto only) so it runs the same from
 * the sources and from the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createPrivateKey, createPublicKey, sign, verify } = require("node:crypto");
const signingKey = createPrivateKey({ key: Buffer.from(workerData.pkcs8), format: "der", type: "pkcs8" });
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const publicKeys = new Map();
function publicKey(raw) {
  const name = Buffer.from(raw).toString("hex");
  let key = publicKeys.get(name);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
    publicKeys.set(name, key);
  }
  return key;
}
parentPort.on("message", ({ id, messages, checks }) => {
  if (messages !== undefined) {
    parentPort.postMessage({ id, signatures: messages.map((message) => sign(null, message, signingKey)) });
  } else {
    parentPort.postMessage({ id, valid: checks.map((c) => c.signature.length === 64 && verify(null, c.message, publicKey(c.publicKey), c.signature)) });
  }
});
`;

export interface SignatureCheck {
  readonly key: VerifierKey;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
}

interface Reply {
  readonly id: number;
  readonly signatures?: Uint8Array[];
  readonly valid?: boolean[];
}

interface PendingRequest {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * A request of at most this many signatures runs in the calling thread. Handing one signature to a
 * worker and back took 2-3 ms of wall time in a loaded federation on two cores (the worker's wake-up
 * preempts the event loop), against about 0.15 ms to check it here: a statement submitted alone,
 * or gossiped alone, waited longer for the hand-off than for the check.
 */
export const IN_THREAD_SIGNATURES_MAX = 4;

/**
 * Ed25519 on worker threads, so that signing (about 60 µs here) and verification (about 160 µs)
 * of many statements run beside the node's event loop instead of on it; a few are done in place
 * (IN_THREAD_SIGNATURES_MAX). Results are byte-identical to the in-thread Signer's and
 * verifyInDomain's: Ed25519 is deterministic. A worker that dies fails only the requests it held
 * and is replaced.
 */
export class Ed25519Pool {
  private readonly workers: Worker[] = [];
  /** Requests in flight, per worker, by request id. */
  private readonly pending = new Map<Worker, Map<number, PendingRequest>>();
  private nextWorker = 0;
  private nextRequest = 0;
  private closing = false;
  private readonly pkcs8: Buffer;
  private readonly signingKey: KeyObject;

  constructor(
    key: PrivateKey,
    size = Math.max(1, Math.min(2, cpus().length - 1)),
    private readonly inThreadMax = IN_THREAD_SIGNATURES_MAX,
  ) {
    this.signingKey = key.keyObject;
    this.pkcs8 = key.keyObject.export({ format: "der", type: "pkcs8" });
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /** The node's signatures over "hashfed/v1/<domain>\n" || each message, in order. */
  async sign(domain: SigningDomain, messages: readonly Uint8Array[]): Promise<Buffer[]> {
    if (messages.length <= this.inThreadMax) return messages.map((bytes) => signEd25519(this.signingKey, domainMessage(domain, bytes)));
    const reply = await this.request({ messages: messages.map((bytes) => domainMessage(domain, bytes)) });
    return reply.signatures!.map((signature) => Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
  }

  /** Whether each signature verifies over "hashfed/v1/<domain>\n" || bytes under its key, in order. */
  async verify(domain: SigningDomain, checks: readonly SignatureCheck[]): Promise<boolean[]> {
    // In place through the process's remembered checks: a statement whose gossiped copy and proposal
    // cross is then verified once.
    if (checks.length <= this.inThreadMax) return inThreadVerifier.verify(domain, checks);
    const reply = await this.request({
      checks: checks.map((check) => ({ publicKey: check.key.publicKey, message: domainMessage(domain, check.bytes), signature: check.signature })),
    });
    return reply.valid!;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pkcs8: this.pkcs8 } });
    const requests = new Map<number, PendingRequest>();
    this.pending.set(worker, requests);
    worker.on("message", (reply: Reply) => {
      const request = requests.get(reply.id);
      if (request === undefined) return;
      requests.delete(reply.id);
      request.resolve(reply);
    });
    const fail = (error: Error): void => {
      for (const request of requests.values()) request.reject(error);
      requests.clear();
      this.pending.delete(worker);
      const position = this.workers.indexOf(worker);
      if (position >= 0 && !this.closing) this.workers[position] = this.spawn();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`an Ed25519 worker exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  private request(body: object): Promise<Reply> {
    const id = this.nextRequest++;
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.get(worker)!.set(id, { resolve, reject });
      worker.postMessage({ id, ...body });
    });
  }
}
