import { Worker } from "node:worker_threads";
import { cpus } from "node:os";
import type { PrivateKey } from "../crypto/keys";
import { domainMessage, type SigningDomain } from "../crypto/signingDomain";

/**
 * The worker's whole program: Ed25519 signatures with one key over the messages it is sent. Kept
 * self-contained (plain JavaScript, node:crypto only) so it runs the same from the sources and from
 * the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createPrivateKey, sign } = require("node:crypto");
const key = createPrivateKey({ key: Buffer.from(workerData.pkcs8), format: "der", type: "pkcs8" });
parentPort.on("message", ({ id, messages }) => {
  parentPort.postMessage({ id, signatures: messages.map((message) => sign(null, message, key)) });
});
`;

/**
 * Signs many statements at once on worker threads, so that Ed25519 signing (about 60 µs each here)
 * runs beside the node's event loop instead of on it. Signatures are byte-identical to the
 * in-thread Signer's: Ed25519 is deterministic.
 */
export class SigningPool {
  private readonly workers: Worker[];
  private nextWorker = 0;
  private nextRequest = 0;
  private readonly pending = new Map<number, { resolve: (signatures: Buffer[]) => void; reject: (error: Error) => void }>();

  constructor(key: PrivateKey, size = Math.max(1, Math.min(2, cpus().length - 1))) {
    const pkcs8 = key.keyObject.export({ format: "der", type: "pkcs8" });
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pkcs8 } });
      worker.on("message", ({ id, signatures }: { id: number; signatures: Uint8Array[] }) => {
        const request = this.pending.get(id)!;
        this.pending.delete(id);
        request.resolve(signatures.map((signature) => Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength)));
      });
      // A worker that dies fails everything in flight rather than leaving callers waiting forever.
      worker.on("error", (error) => {
        for (const request of this.pending.values()) request.reject(error);
        this.pending.clear();
      });
      worker.unref();
      return worker;
    });
  }

  /** Signatures over "hashfed/v1/<domain>\n" || each message, in order. */
  sign(domain: SigningDomain, messages: readonly Uint8Array[]): Promise<Buffer[]> {
    if (messages.length === 0) return Promise.resolve([]);
    const id = this.nextRequest++;
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, messages: messages.map((bytes) => domainMessage(domain, bytes)) });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
