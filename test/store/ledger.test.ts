import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssertionError } from "../../src/assert";
import { verifyCosignedCheckpoint } from "../../src/audit";
import { type AssembledBatch, assembleBatch, type BatchEntry, buildBatch, checkBatch } from "../../src/batch";
import { signPrecommit } from "../../src/consensus";
import { CommitCertificate } from "../../src/gen/hashfed/v1/batch";
import { hashLeaf } from "../../src/log/hasher";
import { Ledger } from "../../src/ledger/ledger";
import type { SignalTypeName } from "../../src/signals";
import type { StatementId } from "../../src/statements";
import { LevelKeyValueStore, LogStore } from "../../src/store";
import { KeyPrefix, nodeKey, numberKey } from "../../src/store/keys";
import { rangeNodes } from "../../src/log/subtree";
import { ReferenceTree } from "../log/referenceTree";
import { hashfedRejection } from "../support/hashfedErrors";
import { type AddedEntry, certificateFor, federationFixture, precommitsBy, StatementMaker, wireBatch } from "../support/statements";

/**
 * Goal: what a node commits survives a restart exactly: the head, the latest cosigned checkpoint, the
 * log state and the match index are rebuilt from LevelDB to what they were; the store serves entries,
 * reveals, batches and checkpoints as committed; it belongs to one federation; and a commit whose
 * certificate does not match its batch changes nothing.
 * Method: a real LogStore in a temporary folder (removed afterwards); batches built with buildBatch
 * and certified with signPrecommit, committed through Ledger.commit; the ledger's observable state is
 * snapshotted before closing and compared after Ledger.open on the reopened store.
 */

const fixture = federationFixture({ label: "ledger" });
const { federation } = fixture;
const alpha = fixture.validators[0]!;
const observer = fixture.observer;
const meta = { proposer: alpha.name, proposerTimeMs: 1_700_000_000_000n };
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-store-test-"));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function openLedger(path: string): Promise<Ledger> {
  const store = await LogStore.open(path);
  await store.bindFederation(federation.id);
  return Ledger.open(federation, store);
}

/** Builds a batch of `candidates` on the ledger's head (all must be valid) and commits it with alpha's precommit. */
async function commit(ledger: Ledger, candidates: readonly BatchEntry[]): Promise<AssembledBatch> {
  const { batch, rejected } = buildBatch(federation, ledger.state, ledger.head, candidates, meta);
  expect(rejected.map(({ error }) => error.message)).toEqual([]);
  await ledger.commit(batch!, certificateFor(batch!, precommitsBy(federation, [alpha], batch!)));
  return batch!;
}

/** Flips `bits` bits of a PDQ value, for near-duplicate queries. */
function nearby(value: Buffer, bits: number): Buffer {
  const copy = Buffer.from(value);
  for (let bit = 0; bit < bits; bit++) copy[bit % 32]! ^= 1 << (bit >> 5);
  return copy;
}

interface Query {
  readonly type: SignalTypeName;
  readonly value: Buffer;
  readonly distanceMax: number;
}

/** Everything a reader can observe of a ledger, as plain data. */
function snapshot(ledger: Ledger, ids: readonly StatementId[], queries: readonly Query[]) {
  const { state } = ledger;
  return {
    head: { height: ledger.head.height, headerHash: ledger.head.headerHash.toString("hex"), size: ledger.treeSize, root: ledger.head.range.root().toString("hex") },
    checkpoint: ledger.checkpoint,
    counts: { size: state.size, liveSignals: state.liveSignals, retractions: state.retractions },
    entries: Array.from({ length: state.size }, (_, index) => [state.submitterAt(index), state.isRetraction(index), state.retractedBy(index)]),
    indexOf: ids.map((id) => ledger.indexOf(id)),
    matches: queries.map(({ type, value, distanceMax }) => ledger.index.match(type, value, distanceMax)),
  };
}

describe("a ledger committed, closed and reopened", () => {
  const maker = new StatementMaker(federation, "reopen");
  const sha = maker.add(alpha.key);
  const md5 = maker.add(observer.key, { signalType: "md5" });
  const pdq = maker.add(alpha.key, { signalType: "pdq" });
  const sha2 = maker.add(alpha.key);
  const sameValue = maker.add(observer.key, { value: sha2.reveal.value });
  const pdq2 = maker.add(observer.key, { signalType: "pdq" });
  const shortLived = maker.add(alpha.key, { signalType: "md5" });
  const last = maker.add(observer.key);
  const batches: BatchEntry[][] = [
    [sha, md5, pdq, sha2],
    [maker.retract(alpha.key, sha.signed.id), pdq2, sameValue],
    [shortLived, maker.retract(alpha.key, shortLived.signed.id), maker.retract(alpha.key, sha2.signed.id)],
    [last],
  ];
  const added: AddedEntry[] = [sha, md5, pdq, sha2, sameValue, pdq2, shortLived, last];
  const all = batches.flat();
  const queries: Query[] = [
    ...added.map(({ signalType, reveal }) => ({ type: signalType, value: reveal.value, distanceMax: 0 })),
    { type: "pdq", value: nearby(pdq.reveal.value, 5), distanceMax: 31 },
    { type: "pdq", value: nearby(pdq2.reveal.value, 20), distanceMax: 31 },
    { type: "pdq", value: nearby(pdq2.reveal.value, 20), distanceMax: 10 },
    { type: "sha256", value: Buffer.alloc(32, 0xee), distanceMax: 0 },
  ];
  const ids = [...all.map(({ signed }) => signed.id), maker.add(alpha.key).signed.id];
  let committedBatches: AssembledBatch[] = [];
  let before: ReturnType<typeof snapshot>;
  let reopened: Ledger;

  beforeAll(async () => {
    const path = join(folder, "reopen");
    const ledger = await openLedger(path);
    committedBatches = [];
    for (const candidates of batches) committedBatches.push(await commit(ledger, candidates));
    before = snapshot(ledger, ids, queries);
    await ledger.store.close();
    reopened = await openLedger(path);
  });

  afterAll(async () => {
    await reopened.store.close();
  });

  test("the ledger's state before closing is what was committed", () => {
    expect(before.head).toMatchObject({ height: 4n, size: BigInt(all.length) });
    expect(before.counts).toEqual({ size: 11, liveSignals: 5, retractions: 3 });
    expect(before.indexOf).toEqual([...all.map((_, index) => index), undefined]);
    expect(before.entries[all.indexOf(sha2)]).toEqual([alpha.name, false, 9]);
    expect(before.entries[all.indexOf(shortLived)]).toEqual([alpha.name, false, 8]);
    expect(before.entries[8]).toEqual([alpha.name, true, undefined]);
    // Retracted entries do not match; the same value added by another member still does.
    const exact = before.matches.slice(0, added.length).map((hits) => hits.map((hit) => hit.logIndex));
    expect(exact).toEqual([[], [1], [2], [6], [6], [5], [], [10]]);
    expect(before.matches[added.length]).toEqual([{ logIndex: 2, distance: 5 }]);
    expect(before.matches[added.length + 1]).toEqual([{ logIndex: 5, distance: 20 }]);
    expect(before.matches[added.length + 2]).toEqual([]);
    expect(before.matches[added.length + 3]).toEqual([]);
  });

  test("head, checkpoint, state and match index are rebuilt identically", () => {
    expect(snapshot(reopened, ids, queries)).toEqual(before);
  });

  test("the reopened checkpoint is the quorum-cosigned checkpoint of the head", () => {
    const verified = verifyCosignedCheckpoint(federation, reopened.checkpoint!);
    expect(verified.checkpoint.size).toBe(reopened.treeSize);
    expect(verified.checkpoint.root).toEqual(reopened.head.range.root());
    expect(verified.signers).toEqual([alpha.name]);
  });

  test("the store holds each batch with its certificate, each checkpoint by tree size, and the head record", async () => {
    const { store } = reopened;
    let size = 0n;
    for (const batch of committedBatches) {
      size += BigInt(batch.entries.length);
      const stored = await store.readBatch(batch.header.height);
      expect(stored!.header).toEqual(batch.headerBytes);
      expect(CommitCertificate.encode(stored!.certificate!).finish()).toEqual(CommitCertificate.encode(certificateFor(batch, precommitsBy(federation, [alpha], batch))).finish());
      const note = await store.readCheckpoint(size);
      expect(verifyCosignedCheckpoint(federation, note!).checkpoint.root).toEqual(batch.header.root);
    }
    expect(await store.readBatch(5n)).toBeUndefined();
    expect(await store.readCheckpoint(1n)).toBeUndefined();
    expect(await store.readHead()).toEqual({ height: 4n, treeSize: 11n, headerHash: committedBatches[3]!.id });
  });

  test("readEntries gives the committed leaves in order, with reveals only when asked and only for AddSignals", async () => {
    const { store } = reopened;
    const withReveals = await store.readEntries(0n, 11n, true);
    expect(withReveals.map(({ index }) => index)).toEqual(all.map((_, index) => BigInt(index)));
    expect(withReveals.map(({ entryBytes }) => entryBytes)).toEqual(all.map(({ signed }) => signed.entryBytes));
    expect(withReveals.map(({ reveal }) => reveal)).toEqual(all.map(({ reveal }) => reveal));
    const withoutReveals = await store.readEntries(0n, 11n, false);
    expect(withoutReveals.map(({ entryBytes }) => entryBytes)).toEqual(all.map(({ signed }) => signed.entryBytes));
    expect(withoutReveals.map(({ reveal }) => reveal)).toEqual(all.map(() => undefined));
    const middle = await store.readEntries(3n, 7n, true);
    expect(middle).toEqual(withReveals.slice(3, 7));
    expect(await store.readEntries(11n, 11n, true)).toEqual([]);
  });

  test("readEntry and the replayed state find each entry; past the end there is nothing", async () => {
    const { store } = reopened;
    for (const [index, entry] of all.entries()) {
      expect(await store.readEntry(BigInt(index))).toEqual({ index: BigInt(index), entryBytes: entry.signed.entryBytes, reveal: entry.reveal });
      expect(reopened.indexOf(entry.signed.id)).toBe(index);
    }
    expect(await store.readEntry(11n)).toBeUndefined();
    expect(reopened.indexOf(ids[ids.length - 1]!)).toBeUndefined();
  });

  test("the reopened ledger goes on committing: the next batch extends the rebuilt tree and is valid for a peer", async () => {
    const next = [maker.add(alpha.key, { signalType: "pdq" }), maker.retract(observer.key, pdq2.signed.id)];
    const peerView = await openLedger(join(folder, "peer-view"));
    for (const candidates of batches) await commit(peerView, candidates);
    const batch = await commit(reopened, next);
    expect(checkBatch(federation, peerView.state, peerView.head, wireBatch(batch), () => false).id).toEqual(batch.id);
    const leaves = (await reopened.store.readEntries(0n, 13n, false)).map(({ entryBytes }) => hashLeaf(entryBytes));
    expect(batch.header.root).toEqual(new ReferenceTree(leaves).hash(0, 13));
    expect(reopened.index.match("pdq", pdq2.reveal.value, 0)).toEqual([]);
    await peerView.store.close();
  });
});

test("Ledger.open reports replay progress up to the tree size", async () => {
  const path = join(folder, "progress");
  const maker = new StatementMaker(federation, "progress");
  const ledger = await openLedger(path);
  await commit(ledger, [maker.add(alpha.key), maker.add(alpha.key)]);
  await commit(ledger, [maker.add(observer.key)]);
  await ledger.store.close();
  const progress: Array<[bigint, bigint]> = [];
  const store = await LogStore.open(path);
  const reopened = await Ledger.open(federation, store, (done, total) => progress.push([done, total]));
  expect(progress[progress.length - 1]).toEqual([3n, 3n]);
  expect(reopened.state.size).toBe(3);
  await store.close();
});

test("a store whose stored tree no longer has its checkpoint's root is refused at open (STORE_DAMAGED)", async () => {
  const path = join(folder, "damaged");
  const maker = new StatementMaker(federation, "damaged");
  const ledger = await openLedger(path);
  await commit(ledger, [maker.add(alpha.key), maker.add(alpha.key), maker.add(alpha.key)]);
  await ledger.store.close();
  // One node of the tree's right edge, as a bad disk sector or a stray write would leave it.
  const kv = await LevelKeyValueStore.open(path);
  const [edge] = rangeNodes(0n, 3n);
  await kv.write([{ type: "put", key: nodeKey(edge!.level, edge!.index), value: Buffer.alloc(32, 0xee) }], { sync: true });
  await kv.close();
  await expectDamaged(path, "does not have the root of its own checkpoint");

  // And the checkpoint itself overwritten: refused the same way, not as a malformed note.
  const again = await LevelKeyValueStore.open(path);
  await again.write([{ type: "put", key: numberKey(KeyPrefix.Checkpoint, 3n), value: Buffer.from("not a note") }], { sync: true });
  await again.close();
  await expectDamaged(path, "its latest checkpoint does not parse");
});

async function expectDamaged(path: string, what: string): Promise<void> {
  const store = await LogStore.open(path);
  try {
    const refused = await hashfedRejection(Ledger.open(federation, store));
    expect(refused.code).toBe("STORE_DAMAGED");
    expect(refused.message).toContain(what);
    expect(refused.message).toContain("restore the folder from a backup, or start from an empty one");
  } finally {
    await store.close();
  }
}

test("an empty store opens as the genesis ledger", async () => {
  const ledger = await openLedger(join(folder, "empty"));
  expect({ height: ledger.head.height, size: ledger.treeSize, checkpoint: ledger.checkpoint, headerHash: ledger.head.headerHash }).toEqual({
    height: 0n,
    size: 0n,
    checkpoint: undefined,
    headerHash: Buffer.alloc(32),
  });
  expect(await ledger.store.readHead()).toBeUndefined();
  await ledger.store.close();
});

describe("bindFederation and bindMember", () => {
  const other = federationFixture({ label: "other" }).federation;

  test("binds a new store to the first federation and refuses any other, across restarts", async () => {
    const path = join(folder, "bind");
    const store = await LogStore.open(path);
    await store.bindFederation(federation.id);
    await store.bindFederation(federation.id);
    const refused = await hashfedRejection(store.bindFederation(other.id));
    expect({ kind: refused.kind, code: refused.code }).toEqual({ kind: "precondition", code: "STORE_OTHER_FEDERATION" });
    expect(refused.message).toContain(federation.id.toString("hex").slice(0, 16));
    expect(refused.message).toContain(other.id.toString("hex").slice(0, 16));
    // Nothing committed yet (a start that went no further): the refusal says what to do.
    expect(refused.message).toContain("its log is empty: if this node never ran in that federation, delete the folder");
    await store.close();
    const reopened = await LogStore.open(path);
    expect((await hashfedRejection(reopened.bindFederation(other.id))).kind).toBe("precondition");
    await reopened.bindFederation(federation.id);
    await reopened.close();
  });

  // A key file mixed up had run a member's key on another member's folder: it signed against its
  // peers' echoes while the member's own node ran, and the log kept evidence against that member.
  test("binds a new store to the first member and refuses another member's key, across restarts", async () => {
    const path = join(folder, "member");
    const store = await LogStore.open(path);
    await store.bindMember("d.example");
    await store.bindMember("d.example");
    await store.close();
    const reopened = await LogStore.open(path);
    const refused = await hashfedRejection(reopened.bindMember("a.example"));
    expect(refused).toMatchObject({
      kind: "precondition",
      code: "STORE_OTHER_MEMBER",
      message: "this data folder holds the node of d.example, not of a.example (the key given): give d.example's key, or a.example's own data folder; two nodes signing as one member sign conflicting votes",
    });
    await reopened.bindMember("d.example");
    await reopened.close();
  });

  test("a store cannot be opened twice at once, and the refusal says what to do (it was LevelDB's lock error)", async () => {
    const path = join(folder, "locked");
    const store = await LogStore.open(path);
    const refused = await hashfedRejection(LogStore.open(path));
    expect({ kind: refused.kind, code: refused.code }).toEqual({ kind: "precondition", code: "STORE_IN_USE" });
    expect(refused.message).toContain("stop it first, or give this node a data folder of its own");
    await store.close();
  });
});

describe("Ledger.commit with a certificate that does not match", () => {
  const maker = new StatementMaker(federation, "refuse");
  let ledger: Ledger;
  let batch: AssembledBatch;
  let otherBatch: AssembledBatch;
  const heard: bigint[] = [];
  const nextEntry = maker.add(alpha.key, { signalType: "md5" });

  beforeAll(async () => {
    ledger = await openLedger(join(folder, "refuse"));
    await commit(ledger, [maker.add(alpha.key), maker.add(observer.key)]);
    ledger.onCommit((committed) => heard.push(committed.header.height));
    batch = buildBatch(federation, ledger.state, ledger.head, [nextEntry], meta).batch!;
    otherBatch = buildBatch(federation, ledger.state, ledger.head, [maker.add(alpha.key)], meta).batch!;
  });

  afterAll(async () => {
    await ledger.store.close();
  });

  test.each([
    ["a certificate of another batch", () => certificateFor(otherBatch, precommitsBy(federation, [alpha], otherBatch)), "CERTIFICATE_MISMATCH"],
    ["a precommit for another batch", () => certificateFor(batch, precommitsBy(federation, [alpha], otherBatch)), "CERTIFICATE_MISMATCH"],
    ["a precommit by an observer", () => certificateFor(batch, precommitsBy(federation, [observer], batch)), "NOT_A_VALIDATOR"],
    ["no precommit", () => certificateFor(batch, []), "CERTIFICATE_SHORT_OF_QUORUM"],
    ["a precommit at another round", () => certificateFor(batch, [signPrecommit(federation, alpha.signer, batch, 1)], 0), "CERTIFICATE_MISMATCH"],
  ])("refuses %s and leaves the store, head, state and index unchanged", async (_, certificate, code) => {
    const headRecord = await ledger.store.readHead();
    const head = ledger.head;
    const checkpoint = ledger.checkpoint;
    const stateSize = ledger.state.size;
    expect((await hashfedRejection(ledger.commit(batch, certificate()))).code).toBe(code);
    expect(await ledger.store.readHead()).toEqual(headRecord);
    expect(ledger.head).toBe(head);
    expect(ledger.checkpoint).toBe(checkpoint);
    expect(ledger.state.size).toBe(stateSize);
    expect(ledger.indexOf(nextEntry.signed.id)).toBeUndefined();
    expect(ledger.index.match("md5", nextEntry.reveal.value, 0)).toEqual([]);
    expect(await ledger.store.readEntry(2n)).toBeUndefined();
    expect(await ledger.store.readBatch(2n)).toBeUndefined();
    expect(await ledger.store.readCheckpoint(3n)).toBeUndefined();
    expect(heard).toEqual([]);
  });

  test("refuses, as a programmer error, a batch that does not follow the head", async () => {
    const stale = assembleBatch(federation, { ...ledger.head, height: ledger.head.height - 1n }, [nextEntry], meta);
    await expect(ledger.commit(stale, certificateFor(stale, precommitsBy(federation, [alpha], stale)))).rejects.toThrow(AssertionError);
    expect(await ledger.store.readEntry(2n)).toBeUndefined();
  });

  test("then commits the same batch with its own certificate, and tells the listeners", async () => {
    await ledger.commit(batch, certificateFor(batch, precommitsBy(federation, [alpha], batch)));
    expect(ledger.treeSize).toBe(3n);
    expect(ledger.indexOf(nextEntry.signed.id)).toBe(2);
    expect(ledger.index.match("md5", nextEntry.reveal.value, 0)).toEqual([{ logIndex: 2, distance: 0 }]);
    expect(heard).toEqual([2n]);
  });
});
