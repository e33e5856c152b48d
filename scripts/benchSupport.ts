/** Shared pieces of the benchmark scripts: timing, medians, and a log fixture built through the commit path. */
import { generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { type BatchEntry, buildBatch } from "../src/batch";
import { signPrecommit } from "../src/consensus";
import { KeySigner, type PrivateKey } from "../src/crypto";
import type { Federation } from "../src/federation";
import type { Submission } from "../src/gen/hashfed/v1/member";
import type { Ledger } from "../src/ledger/ledger";
import { encodeAddSignal, signStatement } from "../src/statements";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function seconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

export function formatRate(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * This machine's Ed25519 rates on one core (node:crypto), per CPU-second of this thread: the
 * median of 3 samples. The baseline every benchmark states its figures against.
 */
export function ed25519RatesPerCore(): { signPerSecond: number; verifyPerSecond: number } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const message = randomBytes(200);
  const signature = sign(null, message, privateKey);
  const rate = (work: () => void): number => {
    const samples = [0, 1, 2].map(() => {
      const start = process.cpuUsage();
      for (let i = 0; i < 3000; i++) work();
      const used = process.cpuUsage(start);
      return 3000 / ((used.user + used.system) / 1e6);
    });
    return median(samples);
  };
  return { signPerSecond: rate(() => sign(null, message, privateKey)), verifyPerSecond: rate(() => verify(null, message, publicKey, signature)) };
}

/** A Member-service submission of a fresh SHA-256 hash, as the benchmarks' clients send it. */
export function sha256Addition(): Submission {
  return { kind: { $case: "add", value: { signalType: "sha256", value: randomBytes(32).toString("hex"), labels: ["graphic-violence"], quality: 0 } } };
}

const SIGNAL_TYPES = ["pdq", "md5", "sha256"] as const;

/** `count` signed AddSignal statements by `key`, a third of each signal type. */
export function signedAdds(federation: Federation, key: PrivateKey, count: number, offset = 0): BatchEntry[] {
  const signer = new KeySigner(key);
  const entries: BatchEntry[] = [];
  for (let i = 0; i < count; i++) {
    const signalType = SIGNAL_TYPES[(offset + i) % 3]!;
    const value = randomBytes(signalType === "md5" ? 16 : 32);
    const salt = randomBytes(16);
    const bytes = encodeAddSignal(
      { federationId: federation.id, submitter: key.name, createdAtMs: BigInt(Date.now()), nonce: randomBytes(16) },
      { signalType, value, labels: ["graphic-violence"], taxonomyVersion: federation.taxonomy.version, quality: 90, salt },
    );
    entries.push({ signed: signStatement(signer, bytes), reveal: { salt, value } });
  }
  return entries;
}

/** Appends `count` statements to a ledger in batches of `batchSize`, through the one commit path. */
export async function fillLedger(ledger: Ledger, key: PrivateKey, count: number, batchSize: number, progress: (done: number) => void): Promise<void> {
  const federation = ledger.federation;
  const signer = new KeySigner(key);
  for (let done = 0; done < count; done += batchSize) {
    const entries = signedAdds(federation, key, Math.min(batchSize, count - done), done);
    const { batch } = buildBatch(federation, ledger.state, ledger.head, entries, { proposer: key.name, proposerTimeMs: BigInt(Date.now()) });
    const precommit = signPrecommit(federation, signer, batch!, 0);
    await ledger.commit(batch!, { height: batch!.header.height, round: 0, valueId: batch!.id, precommits: [precommit] });
    progress(done + entries.length);
  }
}
