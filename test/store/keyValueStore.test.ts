import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssertionError } from "../../src/assert";
import { type KeyRange, type KeyValueStore, LevelKeyValueStore, MemoryKeyValueStore } from "../../src/store";

/**
 * Goal: the two KeyValueStores agree on everything the store code relies on, so that what passes on
 * the simulated disk holds on LevelDB: point and batched reads, missing keys, the order of keys as
 * unsigned bytes, prefix ranges, atomic multi-operation writes where a later operation on a key
 * wins, iteration in any chunk size from a snapshot, copies rather than shared buffers, and close.
 * Method: one suite run against each store, a fresh one per test: LevelDB in a temporary folder
 * (removed afterwards) and the memory store with its default completion. Keys and values are
 * compared as hex strings, so a failure prints readably.
 */

let folder: string;
let opened = 0;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-kv-test-"));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const hex = (buffer: Buffer | undefined): string | undefined => buffer?.toString("hex");

/** Keys around the signed/unsigned boundary and the ends of the byte range, with prefixes of each other. */
const SORTED_KEYS = [
  bytes(0x00),
  bytes(0x00, 0x00),
  bytes(0x00, 0xff),
  bytes(0x01),
  bytes(0x7f, 0xff),
  bytes(0x80),
  bytes(0x80, 0x00),
  bytes(0xfe, 0xff, 0xff),
  bytes(0xff),
  bytes(0xff, 0x00),
  bytes(0xff, 0xff),
];
/** The value stored under a key in these tests: the key reversed, then a marker byte. */
const valueOf = (key: Buffer): Buffer => Buffer.concat([Buffer.from(key).reverse(), bytes(0xaa)]);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function hexEntries(kv: KeyValueStore, range: KeyRange = {}, chunk?: number): Promise<string[]> {
  return (await collect(kv.entries(range, chunk))).map(([key, value]) => `${hex(key)}=${hex(value)}`);
}

/** Stores SORTED_KEYS in a shuffled order, one synced write each for half of them, one batch for the rest. */
async function fill(kv: KeyValueStore): Promise<void> {
  const shuffled = SORTED_KEYS.map((key, i) => ({ key, rank: (i * 7) % SORTED_KEYS.length })).sort((a, b) => a.rank - b.rank);
  const half = Math.floor(shuffled.length / 2);
  for (const { key } of shuffled.slice(0, half)) await kv.write([{ type: "put", key, value: valueOf(key) }], { sync: true });
  await kv.write(
    shuffled.slice(half).map(({ key }) => ({ type: "put", key, value: valueOf(key) })),
    { sync: false },
  );
}

const expectedEntries = (keys: readonly Buffer[]): string[] => keys.map((key) => `${hex(key)}=${hex(valueOf(key))}`);

describe.each([
  ["LevelKeyValueStore", (): Promise<KeyValueStore> => LevelKeyValueStore.open(join(folder, `store-${opened++}`))],
  ["MemoryKeyValueStore", async (): Promise<KeyValueStore> => new MemoryKeyValueStore()],
])("%s", (_, open) => {
  let kv: KeyValueStore;

  beforeEach(async () => {
    kv = await open();
  });

  afterEach(async () => {
    await kv.close();
  });

  test("get finds what was put and nothing else; getMany answers in the order asked, missing keys and repeats included", async () => {
    await fill(kv);
    for (const key of SORTED_KEYS) expect(hex(await kv.get(key))).toBe(hex(valueOf(key)));
    expect(await kv.get(bytes(0x02))).toBeUndefined();
    expect(await kv.get(bytes(0xff, 0xff, 0xff))).toBeUndefined();
    const asked = [bytes(0xff), bytes(0x02), bytes(0x00), bytes(0xff), bytes(0x80, 0x01)];
    expect((await kv.getMany(asked)).map(hex)).toEqual([hex(valueOf(bytes(0xff))), undefined, hex(valueOf(bytes(0x00))), hex(valueOf(bytes(0xff))), undefined]);
    expect(await kv.getMany([])).toEqual([]);
  });

  test("keys sort as unsigned bytes: 0x7f before 0x80 before 0xff, and a key before its extensions", async () => {
    await fill(kv);
    expect([...SORTED_KEYS].sort(Buffer.compare)).toEqual(SORTED_KEYS);
    expect(await hexEntries(kv)).toEqual(expectedEntries(SORTED_KEYS));
    expect((await collect(kv.values({}))).map(hex)).toEqual(SORTED_KEYS.map((key) => hex(valueOf(key))));
  });

  test.each([
    ["the 0x00 prefix, [00, 01),", { gte: bytes(0x00), lt: bytes(0x01) }, [bytes(0x00), bytes(0x00, 0x00), bytes(0x00, 0xff)]],
    ["the 0x80 prefix, [80, 81),", { gte: bytes(0x80), lt: bytes(0x81) }, [bytes(0x80), bytes(0x80, 0x00)]],
    ["the 0xff prefix, [ff, no bound),", { gte: bytes(0xff) }, [bytes(0xff), bytes(0xff, 0x00), bytes(0xff, 0xff)]],
    ["everything below 80", { lt: bytes(0x80) }, SORTED_KEYS.slice(0, 5)],
    ["a range from a missing key to an extension of a present one", { gte: bytes(0x00, 0x01), lt: bytes(0x80, 0x00, 0x00) }, [bytes(0x00, 0xff), bytes(0x01), bytes(0x7f, 0xff), bytes(0x80), bytes(0x80, 0x00)]],
    ["an empty range (gte = lt)", { gte: bytes(0x80), lt: bytes(0x80) }, []],
    ["an inverted range (gte > lt)", { gte: bytes(0xff), lt: bytes(0x00) }, []],
  ])("%s holds exactly its keys, gte included and lt excluded", async (_, range, keys) => {
    await fill(kv);
    expect(await hexEntries(kv, range)).toEqual(expectedEntries(keys));
    expect((await collect(kv.values(range))).map(hex)).toEqual(keys.map((key) => hex(valueOf(key))));
  });

  test("one write applies puts and deletes together, in order: a later operation on a key wins", async () => {
    await kv.write(
      [
        { type: "put", key: bytes(1), value: bytes(0x10) },
        { type: "put", key: bytes(2), value: bytes(0x20) },
        { type: "put", key: bytes(3), value: bytes(0x30) },
      ],
      { sync: true },
    );
    await kv.write(
      [
        { type: "del", key: bytes(1) },
        { type: "put", key: bytes(2), value: bytes(0x21) },
        { type: "del", key: bytes(9) },
        { type: "put", key: bytes(4), value: bytes(0x40) },
        { type: "del", key: bytes(4) },
        { type: "del", key: bytes(3) },
        { type: "put", key: bytes(3), value: bytes(0x31) },
        { type: "put", key: bytes(5), value: bytes(0x50) },
        { type: "put", key: bytes(5), value: bytes(0x51) },
      ],
      { sync: false },
    );
    expect(await hexEntries(kv)).toEqual(["02=21", "03=31", "05=51"]);
    await kv.write([], { sync: true });
    expect(await hexEntries(kv)).toEqual(["02=21", "03=31", "05=51"]);
  });

  test("values and entries read the same contents in any chunk size", async () => {
    await fill(kv);
    const whole = await hexEntries(kv);
    for (const chunk of [1, 2, 3, SORTED_KEYS.length, 1000]) {
      expect(await hexEntries(kv, {}, chunk)).toEqual(whole);
      expect((await collect(kv.values({}, chunk))).map(hex)).toEqual(SORTED_KEYS.map((key) => hex(valueOf(key))));
      expect(await hexEntries(kv, { gte: bytes(0x01), lt: bytes(0xff) }, chunk)).toEqual(whole.slice(3, 8));
    }
  });

  test("a chunk is a positive whole number of entries", async () => {
    await fill(kv);
    for (const chunk of [0, -1, 1.5]) {
      await expect(collect(kv.values({}, chunk))).rejects.toThrow(AssertionError);
      await expect(collect(kv.entries({}, chunk))).rejects.toThrow(AssertionError);
    }
  });

  test("an iteration reads the contents of its start, whatever is written meanwhile", async () => {
    await fill(kv);
    const iterator = kv.entries({}, 1)[Symbol.asyncIterator]();
    const first = await iterator.next();
    await kv.write(
      [
        { type: "del", key: bytes(0xff) },
        { type: "put", key: bytes(0x90), value: bytes(0x01) },
        { type: "put", key: bytes(0x01), value: bytes(0x02) },
      ],
      { sync: true },
    );
    const rest: string[] = [];
    for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) rest.push(`${hex(step.value[0])}=${hex(step.value[1])}`);
    expect([`${hex(first.value[0])}=${hex(first.value[1])}`, ...rest]).toEqual(expectedEntries(SORTED_KEYS));
    expect((await kv.getMany([bytes(0xff), bytes(0x90), bytes(0x01)])).map(hex)).toEqual([undefined, "01", "02"]);
  });

  test("the store keeps its own copies: neither the buffers written nor those read back are shared", async () => {
    const key = bytes(0x42, 0x01);
    const value = bytes(0x01, 0x02, 0x03);
    const writing = kv.write([{ type: "put", key, value }], { sync: true });
    key.fill(0xee);
    value.fill(0xee);
    await writing;
    const read = (await kv.get(bytes(0x42, 0x01)))!;
    expect(hex(read)).toBe("010203");
    read.fill(0);
    const [many] = await kv.getMany([bytes(0x42, 0x01)]);
    many!.fill(0);
    const [[iteratedKey, iteratedValue]] = (await collect(kv.entries({}))) as [[Buffer, Buffer]];
    iteratedKey.fill(0);
    iteratedValue.fill(0);
    expect(await hexEntries(kv)).toEqual(["4201=010203"]);
  });

  test("after close every call rejects, and closing again is harmless", async () => {
    await fill(kv);
    await kv.close();
    await expect(kv.get(bytes(0x00))).rejects.toThrow();
    await expect(kv.getMany([bytes(0x00)])).rejects.toThrow();
    await expect(collect(kv.values({}))).rejects.toThrow();
    await expect(collect(kv.entries({}))).rejects.toThrow();
    await expect(kv.write([{ type: "put", key: bytes(0x00), value: bytes(0x00) }], { sync: true })).rejects.toThrow();
    await kv.close();
  });
});
