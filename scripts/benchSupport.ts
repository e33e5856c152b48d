/** Shared pieces of the benchmark scripts: timing, medians, and a log fixture built through the commit path. */
import { generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BatchEntry, buildBatch } from "../src/batch";
import { signPrecommit } from "../src/consensus";
import { KeySigner, parsePrivateKey, type PrivateKey } from "../src/crypto";
import { type Federation, parseFederation } from "../src/federation";
import type { Submission } from "../src/gen/hashfed/v1/member";
import { Ledger } from "../src/ledger/ledger";
import { LogStore } from "../src/store";
import { type SoloSetup, soloFederation } from "../test/support/cluster";
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

/** The options of the benchmarks that run on the log fixture: `--entries N --runs N --fixture DIR --rebuild`. */
export interface FixtureOptions {
  entries: number;
  runs: number;
  fixture: string;
  rebuild: boolean;
}

export function parseFixtureOptions(argv: readonly string[], runs: number): FixtureOptions {
  const options: FixtureOptions = { entries: 1_000_000, runs, fixture: "/tmp/hashfed-bench-log", rebuild: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--entries") options.entries = Number(argv[++i]);
    else if (flag === "--runs") options.runs = Number(argv[++i]);
    else if (flag === "--fixture") options.fixture = argv[++i]!;
    else if (flag === "--rebuild") options.rebuild = true;
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

interface SavedFixture {
  keyText: string;
  federationText: string;
  memberAddress: string;
  publicAddress: string;
  entries: number;
}

/**
 * A one-validator federation whose log holds `entries` entries, in `folder`: built once through
 * the commit path (a few minutes for a million) and reused while its size matches, unless `rebuild`.
 * A node started on it (startNodeProcess) serves the log.
 */
function parsedOrUndefined(federationText: string): Federation | undefined {
  try {
    return parseFederation(federationText);
  } catch {
    return undefined;
  }
}

/** A one-node federation's parameters for bulk appends: batches of 10,000, and messages that hold the largest of them. */
export const LARGE_BATCHES = { batchEntriesMax: 10_000, messageBytesMax: 32 * 1024 * 1024 };

export async function ensureLogFixture(folder: string, entries: number, rebuild: boolean): Promise<SoloSetup> {
  const setupFile = join(folder, "setup.json");
  if (!rebuild && existsSync(setupFile)) {
    const saved = JSON.parse(await readFile(setupFile, "utf8")) as SavedFixture;
    // A fixture of other parameters (one made before the largest batch had to fit in a message) is built again.
    const federation = saved.entries === entries ? parsedOrUndefined(saved.federationText) : undefined;
    if (federation !== undefined && federation.parameters.messageBytesMax === LARGE_BATCHES.messageBytesMax) {
      const key = parsePrivateKey(saved.keyText);
      return { ...saved, folder, key, keyFile: join(folder, `${key.name}.key`), federation, federationFile: join(folder, "federation.json") };
    }
  }
  await rm(folder, { recursive: true, force: true });
  const fixture = await soloFederation("videohost.example", LARGE_BATCHES, folder);
  const store = await LogStore.open(join(fixture.folder, "data", fixture.key.name, "store"));
  await store.bindFederation(fixture.federation.id);
  const ledger = await Ledger.open(fixture.federation, store);
  const start = process.hrtime.bigint();
  await fillLedger(ledger, fixture.key, entries, 10_000, (done) => {
    if (done % 100_000 === 0) console.log(`  fixture: ${done.toLocaleString("en-US")} of ${entries.toLocaleString("en-US")} entries (${seconds(start).toFixed(0)} s)`);
  });
  await store.close();
  const saved: SavedFixture = { keyText: fixture.key.text, federationText: fixture.federation.text, memberAddress: fixture.memberAddress, publicAddress: fixture.publicAddress, entries };
  // It holds the fixture's private key: owner-only, like a key file.
  await writeFile(setupFile, JSON.stringify(saved), { mode: 0o600 });
  return fixture;
}
