import { AssertionError } from "../../src/assert";
import { DurableImage, type KeyValueStore, MemoryKeyValueStore } from "../../src/store";
import { WriteGate } from "../support/writeGate";

/**
 * Goal: the simulated disk loses exactly what LevelDB on a machine that loses power may lose: a
 * synced write survives once it completes, together with every write completed before it; an
 * unsynced write completed after the last synced one is lost; a write not completed at the crash is
 * lost and its promise never settles. Images restore the disk of their moment, and a crashed
 * store refuses every call.
 * Method: small writes of one-byte keys, with completion held where the test needs to choose when
 * (a held WriteGate keeps each write's completion until the test releases it); the disk after a crash is
 * read back through MemoryKeyValueStore.fromImage.
 */

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const put = (key: number, value: number) => ({ type: "put", key: bytes(key), value: bytes(value) }) as const;
const del = (key: number) => ({ type: "del", key: bytes(key) }) as const;

/** Every entry as "key=value" in hex, in key order. */
async function contents(kv: KeyValueStore): Promise<string[]> {
  const entries: string[] = [];
  for await (const [key, value] of kv.entries({})) entries.push(`${key.toString("hex")}=${value.toString("hex")}`);
  return entries;
}

const imageContents = (image: DurableImage): Promise<string[]> => contents(MemoryKeyValueStore.fromImage(image));

/** Whether `promise` has settled, checked after everything else queued has run. */
function watch(promise: Promise<unknown>): () => Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return settled;
  };
}

test("a synced write is durable once it completes", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10), put(2, 0x20)], { sync: true });
  await kv.write([del(1)], { sync: true });
  expect(await imageContents(kv.crash())).toEqual(["02=20"]);
});

test("an unsynced write is seen at once but lost by a crash, deletions included", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10)], { sync: true });
  await kv.write([put(2, 0x20), del(1)], { sync: false });
  expect(await contents(kv)).toEqual(["02=20"]);
  expect(await imageContents(kv.crash())).toEqual(["01=10"]);
});

test("a synced write makes the writes completed before it durable, and not those after it", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10)], { sync: false });
  await kv.write([put(2, 0x20), put(1, 0x11)], { sync: false });
  await kv.write([put(3, 0x30)], { sync: true });
  await kv.write([put(4, 0x40), del(2)], { sync: false });
  expect(await contents(kv)).toEqual(["01=11", "03=30", "04=40"]);
  expect(await imageContents(kv.crash())).toEqual(["01=11", "02=20", "03=30"]);
});

test("a write is applied when it completes, not when it starts, and writes apply in the order they complete", async () => {
  const held = new WriteGate({ holding: true });
  const kv = new MemoryKeyValueStore({ completeWrite: held.completeWrite });
  const first = kv.write([put(1, 0x10)], { sync: true });
  const second = kv.write([put(1, 0x11), put(2, 0x20)], { sync: true });
  expect(held.count).toBe(2);
  expect(await contents(kv)).toEqual([]);
  held.release(1);
  await second;
  expect(await contents(kv)).toEqual(["01=11", "02=20"]);
  held.release(0);
  await first;
  expect(await contents(kv)).toEqual(["01=10", "02=20"]);
  expect(await imageContents(kv.image())).toEqual(["01=10", "02=20"]);
});

test("a write not completed at the crash is lost and its promise never settles, even if a later synced write completed", async () => {
  const held = new WriteGate({ holding: true });
  const kv = new MemoryKeyValueStore({ completeWrite: held.completeWrite });
  const lost = watch(kv.write([put(1, 0x10)], { sync: false }));
  const lostSynced = watch(kv.write([put(2, 0x20)], { sync: true }));
  const durable = kv.write([put(3, 0x30)], { sync: true });
  held.release(2);
  await durable;
  const image = kv.crash();
  held.release(0);
  held.release(0);
  expect(await lost()).toBe(false);
  expect(await lostSynced()).toBe(false);
  expect(await imageContents(image)).toEqual(["03=30"]);
});

test("completing a write twice is a programmer error", async () => {
  let complete: () => void = () => undefined;
  const kv = new MemoryKeyValueStore({ completeWrite: (callback) => (complete = callback) });
  const writing = kv.write([put(1, 0x10)], { sync: true });
  complete();
  await writing;
  expect(() => complete()).toThrow(AssertionError);
});

test("close syncs nothing: a crash after close keeps the synced writes only", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10)], { sync: true });
  await kv.write([put(2, 0x20)], { sync: false });
  await kv.close();
  expect(await imageContents(kv.image())).toEqual(["01=10"]);
  expect(await imageContents(kv.crash())).toEqual(["01=10"]);
});

test("a store started from an image holds exactly the image, works as any store, and takes its own options", async () => {
  const original = new MemoryKeyValueStore();
  await original.write([put(0x00, 1), put(0xff, 2), put(0x80, 3)], { sync: true });
  const image = original.crash();
  const held = new WriteGate({ holding: true });
  const restarted = MemoryKeyValueStore.fromImage(image, { completeWrite: held.completeWrite });
  expect(await contents(restarted)).toEqual(["00=01", "80=03", "ff=02"]);
  const writing = restarted.write([del(0x80), put(0x01, 4)], { sync: true });
  expect(held.count).toBe(1);
  held.release();
  await writing;
  expect(await contents(restarted)).toEqual(["00=01", "01=04", "ff=02"]);
  expect(await imageContents(restarted.crash())).toEqual(["00=01", "01=04", "ff=02"]);
  expect(await imageContents(image)).toEqual(["00=01", "80=03", "ff=02"]);
});

test("image() keeps the disk of its moment: later writes do not reach it, nor does changing what it hands out", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10), put(2, 0x20)], { sync: true });
  await kv.write([put(3, 0x30)], { sync: false });
  const earlier = kv.image();
  await kv.write([del(1), put(2, 0x21), put(4, 0x40)], { sync: true });
  for (const [key, value] of earlier.entries()) {
    key.fill(0xee);
    value.fill(0xee);
  }
  expect(await imageContents(earlier)).toEqual(["01=10", "02=20"]);
  expect(await contents(kv)).toEqual(["02=21", "03=30", "04=40"]);
  expect(await imageContents(kv.crash())).toEqual(["02=21", "03=30", "04=40"]);
});

test("an image is built from any entries, copied: the simulator can write a disk by hand", async () => {
  const key = bytes(0x07);
  const image = new DurableImage([[key, bytes(0x70)]]);
  key.fill(0);
  expect(await imageContents(image)).toEqual(["07=70"]);
});

test("after a crash every call rejects, saying the store crashed, and crash and image throw", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10)], { sync: true });
  const iterator = kv.entries({})[Symbol.asyncIterator]();
  kv.crash();
  const crashed = /crashed/;
  await expect(kv.get(bytes(1))).rejects.toThrow(crashed);
  await expect(kv.getMany([bytes(1)])).rejects.toThrow(crashed);
  await expect(iterator.next()).rejects.toThrow(crashed);
  await expect(kv.values({})[Symbol.asyncIterator]().next()).rejects.toThrow(crashed);
  await expect(kv.write([put(2, 0x20)], { sync: true })).rejects.toThrow(crashed);
  await expect(kv.close()).rejects.toThrow(crashed);
  expect(() => kv.image()).toThrow(crashed);
  expect(() => kv.crash()).toThrow(crashed);
});

test("an iteration under way when the store crashes fails at its next step", async () => {
  const kv = new MemoryKeyValueStore();
  await kv.write([put(1, 0x10), put(2, 0x20)], { sync: true });
  const iterator = kv.values({})[Symbol.asyncIterator]();
  expect((await iterator.next()).value).toEqual(bytes(0x10));
  kv.crash();
  await expect(iterator.next()).rejects.toThrow(/crashed/);
});
