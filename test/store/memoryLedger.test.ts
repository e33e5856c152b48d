import { type AssembledBatch, type BatchEntry, buildBatch } from "../../src/batch";
import { hashLeaf } from "../../src/log/hasher";
import { verifyInclusion } from "../../src/log/verify";
import { Ledger } from "../../src/ledger/ledger";
import type { StatementId } from "../../src/statements";
import { type DurableImage, LogStore, MemoryKeyValueStore } from "../../src/store";
import { hashfedRejection } from "../support/hashfedErrors";
import { type AddedEntry, certificateFor, federationFixture, precommitsBy, StatementMaker } from "../support/statements";
import { WriteGate } from "../support/writeGate";

/**
 * Goal: LogStore and Ledger run unchanged on the simulated disk, and a crash leaves what the commit
 * path promises: after a crash the restarted ledger replays the same head, checkpoint, state, match
 * index and proofs; a crash while the commit's write is held leaves the previous head, with nothing
 * of the batch on disk; an image taken earlier restores the earlier ledger.
 * Method: a ledger on a MemoryKeyValueStore whose writes complete at once unless the test holds
 * them; three batches committed through Ledger.commit (adds of each signal type and retractions);
 * the ledger's observable state is snapshotted, the store crashed, and the snapshot compared after
 * Ledger.open on a store started from the crash image.
 */

const fixture = federationFixture({ label: "memory-ledger" });
const { federation } = fixture;
const alpha = fixture.validators[0]!;
const observer = fixture.observer;
const meta = { proposer: alpha.name, proposerTimeMs: 1_700_000_000_000n };

async function ledgerOn(kv: MemoryKeyValueStore): Promise<Ledger> {
  const store = LogStore.on(kv);
  await store.bindFederation(federation.id);
  return Ledger.open(federation, store);
}

/** Builds a batch of `candidates` (all valid) on the ledger's head, with alpha's certificate. */
function certifiedBatch(ledger: Ledger, candidates: readonly BatchEntry[]) {
  const { batch, rejected } = buildBatch(federation, ledger.state, ledger.head, candidates, meta);
  expect(rejected.map(({ error }) => error.message)).toEqual([]);
  return { batch: batch!, certificate: certificateFor(batch!, precommitsBy(federation, [alpha], batch!)) };
}

async function commit(ledger: Ledger, candidates: readonly BatchEntry[]): Promise<AssembledBatch> {
  const { batch, certificate } = certifiedBatch(ledger, candidates);
  await ledger.commit(batch, certificate);
  return batch;
}

/** What a reader can observe of a ledger, as plain data, with an inclusion proof of every entry checked against the head. */
async function snapshot(ledger: Ledger, ids: readonly StatementId[], added: readonly AddedEntry[]) {
  const { state, head } = ledger;
  const root = head.range.root();
  for (let index = 0n; index < ledger.treeSize; index++) {
    const entry = await ledger.store.readEntry(index);
    verifyInclusion(index, ledger.treeSize, hashLeaf(entry!.entryBytes), await ledger.tree.inclusionProof(index, ledger.treeSize), root);
  }
  return {
    head: { height: head.height, headerHash: head.headerHash.toString("hex"), size: ledger.treeSize, root: root.toString("hex") },
    checkpoint: ledger.checkpoint,
    counts: { size: state.size, liveSignals: state.liveSignals, retractions: state.retractions },
    entries: Array.from({ length: state.size }, (_, index) => [state.submitterAt(index), state.isRetraction(index), state.retractedBy(index)]),
    indexOf: ids.map((id) => ledger.indexOf(id)),
    matches: added.map(({ signalType, reveal }) => ledger.index.match(signalType, reveal.value, 0)),
  };
}

describe("a ledger on the simulated disk, crashed and restarted", () => {
  const maker = new StatementMaker(federation, "memory-ledger");
  const sha = maker.add(alpha.key);
  const md5 = maker.add(observer.key, { signalType: "md5" });
  const pdq = maker.add(alpha.key, { signalType: "pdq" });
  const later = maker.add(observer.key);
  const batches: BatchEntry[][] = [[sha, md5], [pdq, maker.retract(alpha.key, sha.signed.id)], [later, maker.retract(observer.key, md5.signed.id)]];
  const added = [sha, md5, pdq, later];
  const ids = batches.flat().map(({ signed }) => signed.id);
  const next = [maker.add(alpha.key, { signalType: "pdq" })];
  let afterFirst: DurableImage;
  let before: Awaited<ReturnType<typeof snapshot>>;
  let crashImage: DurableImage;

  beforeAll(async () => {
    const kv = new MemoryKeyValueStore();
    const ledger = await ledgerOn(kv);
    await commit(ledger, batches[0]!);
    afterFirst = kv.image();
    for (const candidates of batches.slice(1)) await commit(ledger, candidates);
    before = await snapshot(ledger, [...ids, next[0]!.signed.id], added);
    crashImage = kv.crash();
  });

  test("the ledger before the crash holds the three batches", () => {
    expect(before.head).toMatchObject({ height: 3n, size: 6n });
    expect(before.counts).toEqual({ size: 6, liveSignals: 2, retractions: 2 });
    expect(before.indexOf).toEqual([0, 1, 2, 3, 4, 5, undefined]);
    expect(before.matches.map((hits) => hits.map((hit) => hit.logIndex))).toEqual([[], [], [2], [4]]);
  });

  test("Ledger.open on the crash image replays the same head, checkpoint, state, index and proofs", async () => {
    const restarted = await ledgerOn(MemoryKeyValueStore.fromImage(crashImage));
    expect(await snapshot(restarted, [...ids, next[0]!.signed.id], added)).toEqual(before);
    await restarted.store.close();
  });

  test("the restarted store is still bound to its federation", async () => {
    const store = LogStore.on(MemoryKeyValueStore.fromImage(crashImage));
    const other = federationFixture({ label: "memory-ledger-other" }).federation;
    const refused = await hashfedRejection(store.bindFederation(other.id));
    expect(refused.code).toBe("STORE_OTHER_FEDERATION");
    // It holds a log: no advice to delete it.
    expect(refused.message).not.toContain("delete");
    await store.bindFederation(federation.id);
    await store.close();
  });

  test("an image taken after the first batch restores the ledger of that moment", async () => {
    const restored = await ledgerOn(MemoryKeyValueStore.fromImage(afterFirst));
    expect({ height: restored.head.height, size: restored.treeSize, indexOf: ids.map((id) => restored.indexOf(id)) }).toEqual({
      height: 1n,
      size: 2n,
      indexOf: [0, 1, undefined, undefined, undefined, undefined],
    });
    expect(await restored.store.readBatch(2n)).toBeUndefined();
    await restored.store.close();
  });

  test("a crash while the commit's write is held leaves the previous head, with nothing of the batch on disk", async () => {
    const gate = new WriteGate();
    const kv = MemoryKeyValueStore.fromImage(crashImage, { completeWrite: gate.completeWrite });
    const ledger = await ledgerOn(kv);
    const { batch, certificate } = certifiedBatch(ledger, next);
    gate.hold();
    let settled = false;
    ledger.commit(batch, certificate).then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(gate.count).toBe(1);
    const image = kv.crash();
    gate.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(image.entries()).toEqual(crashImage.entries());

    const restarted = await ledgerOn(MemoryKeyValueStore.fromImage(image));
    expect(await snapshot(restarted, [...ids, next[0]!.signed.id], added)).toEqual(before);
    expect(await restarted.store.readEntry(6n)).toBeUndefined();
    expect(await restarted.store.readBatch(4n)).toBeUndefined();
    expect(await restarted.store.readCheckpoint(7n)).toBeUndefined();
    // The batch was not half there: the restarted node commits it whole, as if it had never started.
    await restarted.commit(batch, certificate);
    expect({ height: restarted.head.height, size: restarted.treeSize, index: restarted.indexOf(next[0]!.signed.id) }).toEqual({ height: 4n, size: 7n, index: 6 });
    await restarted.store.close();
  });

  test("at every moment of a commit the disk holds the batch whole or not at all", async () => {
    const gate = new WriteGate();
    const kv = MemoryKeyValueStore.fromImage(crashImage, { completeWrite: gate.completeWrite });
    const ledger = await ledgerOn(kv);
    const { batch, certificate } = certifiedBatch(ledger, next);
    gate.hold();
    const committing = ledger.commit(batch, certificate);
    const images = [kv.image()];
    while (gate.count > 0) {
      gate.release();
      await new Promise((resolve) => setImmediate(resolve));
      images.push(kv.image());
    }
    await committing;
    const whole = kv.image().entries();
    expect(whole.length).toBeGreaterThan(crashImage.entries().length);
    for (const image of images) expect([crashImage.entries(), whole]).toContainEqual(image.entries());
    await ledger.store.close();
  });
});
