/**
 * Goal: a data folder damaged on disk is refused at start (STORE_DAMAGED, with what to do), never
 * opened short of batches it acknowledged nor served with wrong proofs; a crash's torn, unsynced
 * journal tail is not damage.
 * Method: a ledger on LevelDB commits real batches; then, with the store closed, one byte of the
 * LevelDB journal or of a batch summary is flipped (as a bad sector would), or the journal cut
 * short, and the store opened again.
 */
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBatch, type BatchEntry } from "../../src/batch";
import { BatchSummary } from "../../src/gen/hashfed/v1/store";
import { Ledger } from "../../src/ledger/ledger";
import { LevelKeyValueStore, LogStore } from "../../src/store";
import { KeyPrefix, numberKey } from "../../src/store/keys";
import { certificateFor, federationFixture, precommitsBy, StatementMaker } from "../support/statements";

const fixture = federationFixture({ label: "damaged-store" });
const { federation } = fixture;
const alpha = fixture.validators[0]!;
const meta = { proposer: alpha.name, proposerTimeMs: 1_700_000_000_000n };
const maker = new StatementMaker(federation, "damaged");

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-damaged-"));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function openLedger(): Promise<Ledger> {
  const store = await LogStore.open(folder);
  try {
    await store.bindFederation(federation.id);
    return await Ledger.open(federation, store);
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function commitBatches(sizes: readonly number[]): Promise<void> {
  const ledger = await openLedger();
  for (const size of sizes) {
    const candidates: BatchEntry[] = Array.from({ length: size }, () => maker.add(alpha.key));
    const { batch } = buildBatch(federation, ledger.state, ledger.head, candidates, meta);
    await ledger.commit(batch!, certificateFor(batch!, precommitsBy(federation, [alpha], batch!)));
  }
  await ledger.store.close();
}

async function journal(): Promise<string> {
  return join(folder, (await readdir(folder)).find((name) => name.endsWith(".log"))!);
}

async function flipByte(path: string, position: (length: number) => number): Promise<void> {
  const bytes = await readFile(path);
  bytes[position(bytes.length)]! ^= 0x01;
  await writeFile(path, bytes);
}

/** Flips a bit of the first tree hash that the summary of the batch at `height` holds. */
async function flipFirstUpperHash(height: bigint): Promise<void> {
  const kv = await LevelKeyValueStore.open(folder);
  const key = numberKey(KeyPrefix.Summary, height);
  const summary = BatchSummary.decode((await kv.get(key))!);
  const upper = Buffer.from(summary.upperNodeHashes);
  upper[0]! ^= 0x01;
  await kv.write([{ type: "put", key, value: Buffer.from(BatchSummary.encode({ ...summary, upperNodeHashes: upper }).finish()) }], { sync: true });
  await kv.close();
}

test("a journal record that fails its checksum is refused before LevelDB replays it, and at every open after", async () => {
  await commitBatches([4, 4, 4]);
  const path = await journal();
  await flipByte(path, (length) => length - 100);
  const damaged = await readFile(path);
  const refusal = { code: "STORE_DAMAGED", message: expect.stringMatching(/a record that fails its checksum \(\d+\.log, byte \d+\).*restore the folder from a backup/) };
  await expect(openLedger()).rejects.toMatchObject(refusal);
  // LevelDB, left to open it, had dropped the record and written a journal without it.
  expect((await readFile(path)).equals(damaged)).toBe(true);
  await expect(openLedger()).rejects.toMatchObject(refusal);
});

test("a record damaged in the middle of the journal, with whole records after it, is refused", async () => {
  await commitBatches([300, 300, 300]);
  const path = await journal();
  await flipByte(path, (length) => Math.floor(length / 2));
  await expect(openLedger()).rejects.toMatchObject({ code: "STORE_DAMAGED" });
});

test("a journal cut short inside its last record, as a crash leaves an unsynced write, opens at the batch before", async () => {
  await commitBatches([4, 4]);
  const path = await journal();
  const length = (await readFile(path)).length;
  await truncate(path, length - 50);
  const ledger = await openLedger();
  expect([ledger.head.height, ledger.treeSize]).toEqual([1n, 4n]);
  await ledger.store.close();
});

test("a journal whose last record ends in an unwritten sector (zeros) opens at the batch before", async () => {
  await commitBatches([4, 40]);
  const path = await journal();
  const bytes = await readFile(path);
  bytes.fill(0, bytes.length - 512);
  await writeFile(path, bytes);
  const ledger = await openLedger();
  expect([ledger.head.height, ledger.treeSize]).toEqual([1n, 4n]);
  await ledger.store.close();
});

test.each([
  ["the last record", 1],
  ["the record before the last", 2],
])("a flipped bit in the length of %s (it then runs past the end of the file, like a torn write) is refused", async (_, fromEnd) => {
  await commitBatches([4, 4, 4, 4]);
  const path = await journal();
  const bytes = await readFile(path);
  const starts: number[] = [];
  for (let at = 0; at + 7 <= bytes.length; at += 7 + bytes.readUInt16LE(at + 4)) starts.push(at);
  bytes[starts[starts.length - fromEnd]! + 5]! ^= 0x10;
  await writeFile(path, bytes);
  await expect(openLedger()).rejects.toMatchObject({ code: "STORE_DAMAGED", message: expect.stringContaining("a record whose length was damaged") });
});

test("a torn journal followed by an empty newer one (a crash while LevelDB opened the store) opens at the batch before", async () => {
  await commitBatches([4, 4]);
  const path = await journal();
  const length = (await readFile(path)).length;
  await truncate(path, length - 50);
  const number = Number(path.slice(-10, -4));
  await writeFile(join(folder, `${String(number + 1).padStart(6, "0")}.log`), Buffer.alloc(0));
  const ledger = await openLedger();
  expect([ledger.head.height, ledger.treeSize]).toEqual([1n, 4n]);
  await ledger.store.close();
});

test("a damaged tree node in a batch summary is refused at open instead of served inside every proof", async () => {
  // A tree of 12 (a batch of 8, then one of 4): the second summary holds the level-2 node on its right edge.
  await commitBatches([8, 4]);
  await flipFirstUpperHash(2n);
  await expect(openLedger()).rejects.toMatchObject({ code: "STORE_DAMAGED", message: expect.stringContaining("restore the folder from a backup") });
});

test("a damaged upper tree node off the right edge is refused too", async () => {
  // A tree of 16 in two batches of 8: the first summary's level-2 node 0 is under the root only.
  await commitBatches([8, 8]);
  await flipFirstUpperHash(1n);
  await expect(openLedger()).rejects.toMatchObject({ code: "STORE_DAMAGED" });
});
