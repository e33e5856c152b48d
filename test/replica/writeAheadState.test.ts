/**
 * Goal: the write-ahead state is a sound double-sign guard. A slot (height, round, kind) holds one
 * message; signatures only move forward; what was recorded survives a crash, a proposal with its
 * batch; a node restored from an older disk adopts its own messages when peers send them back, and
 * then signs nothing at or below them.
 * Method: a WriteAheadState on the simulated disk, crashed and reopened from its durable images.
 */
import { Step } from "../../src/consensus";
import { WriteAheadState } from "../../src/replica/writeAheadState";
import { MemoryKeyValueStore } from "../../src/store";

const state = (height: bigint, round: number) => ({ height, round, step: Step.Prevote, lockedValue: null, lockedRound: -1, validValue: null, validRound: -1 });
const slot = (height: bigint, round: number, kind: "proposal" | "prevote" | "precommit") => ({ height, round, kind });

test("a recorded slot holds its message across a crash, and nothing at or below it may be signed again", async () => {
  const disk = new MemoryKeyValueStore();
  const wal = await WriteAheadState.open(disk);
  expect(wal.roundState).toBeUndefined();
  expect(wal.maySign(slot(5n, 0, "prevote"))).toBe(true);
  await wal.record(slot(5n, 0, "prevote"), Buffer.from("prevote 5/0"), state(5n, 0));
  await wal.record(slot(5n, 1, "precommit"), Buffer.from("precommit 5/1"), { ...state(5n, 1), step: Step.Precommit, lockedValue: "ab".repeat(32), lockedRound: 1 });

  const reopened = await WriteAheadState.open(MemoryKeyValueStore.fromImage(disk.crash()));
  expect(reopened.signedAt(slot(5n, 0, "prevote"))).toEqual(Buffer.from("prevote 5/0"));
  expect(reopened.roundState).toEqual({ ...state(5n, 1), step: Step.Precommit, lockedValue: "ab".repeat(32), lockedRound: 1 });
  expect(reopened.signedAtHeight(5n).map(String)).toEqual(["prevote 5/0", "precommit 5/1"]);
  for (const earlier of [slot(5n, 0, "precommit"), slot(5n, 1, "prevote"), slot(5n, 1, "precommit"), slot(4n, 9, "precommit")]) {
    expect(reopened.maySign(earlier)).toBe(false);
  }
  expect(reopened.maySign(slot(5n, 2, "proposal"))).toBe(true);
  expect(reopened.maySign(slot(6n, 0, "prevote"))).toBe(true);
});

test("a node restored from an old copy adopts its forgotten messages and refuses to sign at or below them", async () => {
  const disk = new MemoryKeyValueStore();
  const wal = await WriteAheadState.open(disk);
  await wal.record(slot(3n, 0, "prevote"), Buffer.from("old prevote"), state(3n, 0));
  const oldCopy = disk.image();
  await wal.record(slot(3n, 2, "prevote"), Buffer.from("prevote it forgot"), state(3n, 2));

  const restored = await WriteAheadState.open(MemoryKeyValueStore.fromImage(oldCopy));
  expect(restored.maySign(slot(3n, 1, "prevote"))).toBe(true); // it cannot know yet
  expect(await restored.adopt(slot(3n, 2, "prevote"), Buffer.from("prevote it forgot"))).toBe(true);
  expect(await restored.adopt(slot(3n, 2, "prevote"), Buffer.from("prevote it forgot"))).toBe(false);
  expect(restored.signedAt(slot(3n, 2, "prevote"))).toEqual(Buffer.from("prevote it forgot"));
  expect(restored.maySign(slot(3n, 1, "prevote"))).toBe(false);
  expect(restored.maySign(slot(3n, 2, "prevote"))).toBe(false);
  expect(restored.maySign(slot(3n, 2, "precommit"))).toBe(true);
});

test("a record whose synced write had not completed at the crash is not there after it, and may be signed", async () => {
  let held: (() => void) | undefined;
  const disk = new MemoryKeyValueStore({ completeWrite: (complete) => (held = complete) });
  const opening = WriteAheadState.open(disk);
  const wal = await opening;
  const writing = wal.record(slot(1n, 0, "prevote"), Buffer.from("never sent"), state(1n, 0));
  expect(held).toBeDefined();
  const image = disk.crash();
  void writing;
  const reopened = await WriteAheadState.open(MemoryKeyValueStore.fromImage(image));
  expect(reopened.signedAt(slot(1n, 0, "prevote"))).toBeUndefined();
  expect(reopened.maySign(slot(1n, 0, "prevote"))).toBe(true);
});

test("old heights are forgotten once decided, on disk with the next record", async () => {
  const disk = new MemoryKeyValueStore();
  const wal = await WriteAheadState.open(disk);
  await wal.record(slot(1n, 0, "prevote"), Buffer.from("h1"), state(1n, 0));
  await wal.record(slot(2n, 0, "prevote"), Buffer.from("h2"), state(2n, 0));
  wal.forgetBelow(2n);
  expect(wal.signedAtHeight(1n)).toEqual([]);
  expect(wal.signedAtHeight(2n).map(String)).toEqual(["h2"]);

  // Restarted before the next record: the slot is still on disk, and is forgotten again.
  const early = await WriteAheadState.open(MemoryKeyValueStore.fromImage(disk.image()));
  expect(early.signedAtHeight(1n).map(String)).toEqual(["h1"]);
  early.forgetBelow(2n);
  expect(early.signedAtHeight(1n)).toEqual([]);
  expect(early.maySign(slot(2n, 0, "prevote"))).toBe(false);

  await wal.record(slot(2n, 0, "precommit"), Buffer.from("h2 precommit"), state(2n, 0));
  const later = await WriteAheadState.open(MemoryKeyValueStore.fromImage(disk.crash()));
  expect(later.signedAtHeight(1n)).toEqual([]);
  expect(later.signedAtHeight(2n).map(String)).toEqual(["h2", "h2 precommit"]);
  expect(later.maySign(slot(2n, 0, "precommit"))).toBe(false);
});

test("a proposal is recorded with the batch it names, a precommit may be with the batch it locks on; they survive a crash and are forgotten with their height", async () => {
  const disk = new MemoryKeyValueStore();
  const wal = await WriteAheadState.open(disk);
  await wal.record(slot(1n, 0, "proposal"), Buffer.from("proposal 1/0"), state(1n, 0), Buffer.from("batch 1/0"));
  await wal.record(slot(1n, 0, "prevote"), Buffer.from("prevote 1/0"), state(1n, 0));
  await wal.record(slot(2n, 0, "precommit"), Buffer.from("precommit 2/0"), state(2n, 0), Buffer.from("locked 2/0"));
  await wal.record(slot(2n, 1, "proposal"), Buffer.from("proposal 2/1"), state(2n, 1), Buffer.from("batch 2/1"));
  await expect(wal.record(slot(2n, 2, "proposal"), Buffer.from("no batch"), state(2n, 2))).rejects.toThrow("a proposal is recorded with its batch");
  await expect(wal.record(slot(2n, 2, "prevote"), Buffer.from("prevote"), state(2n, 2), Buffer.from("batch"))).rejects.toThrow("a prevote without one");

  const restarted = MemoryKeyValueStore.fromImage(disk.crash());
  const reopened = await WriteAheadState.open(restarted);
  expect(reopened.batchesAtHeight(1n).map(String)).toEqual(["batch 1/0"]);
  expect(reopened.batchesAtHeight(2n).map(String).sort()).toEqual(["batch 2/1", "locked 2/0"]);

  reopened.forgetBelow(2n);
  expect(reopened.batchesAtHeight(1n)).toEqual([]);
  await reopened.record(slot(2n, 1, "prevote"), Buffer.from("prevote 2/1"), state(2n, 1));
  const later = await WriteAheadState.open(MemoryKeyValueStore.fromImage(restarted.crash()));
  expect(later.batchesAtHeight(1n)).toEqual([]);
  expect(later.batchesAtHeight(2n).map(String).sort()).toEqual(["batch 2/1", "locked 2/0"]);
});
