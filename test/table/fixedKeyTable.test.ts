/**
 * Goal: the typed-array multimap behind statement-id lookups and exact matching answers exactly as a
 * plain Map of arrays would, through many growths, with duplicate keys and keys of every width used.
 * Method: fast-check runs random insert/lookup sequences against the naive model.
 */
import fc from "fast-check";
import { FixedKeyTable, GrowableRecords, keyedHash32 } from "../../src/table";

const model = (pairs: readonly [Uint8Array, number][]): Map<string, number[]> => {
  const map = new Map<string, number[]>();
  for (const [key, value] of pairs) {
    const name = Buffer.from(key).toString("hex");
    map.set(name, [...(map.get(name) ?? []), value]);
  }
  return map;
};

describe("FixedKeyTable", () => {
  for (const width of [16, 32]) {
    test(`agrees with a Map of arrays for ${width}-byte keys, duplicates included`, () => {
      const key = fc.uint8Array({ minLength: width, maxLength: width });
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.oneof(key, fc.constant(new Uint8Array(width))), fc.nat()), { maxLength: 3000 }), fc.array(key, { maxLength: 50 }), (pairs, probes) => {
          const table = new FixedKeyTable(width, [0x12345678, 0x9abcdef0]);
          for (const [k, v] of pairs) table.insert(k, v);
          const expected = model(pairs);
          expect(table.size).toBe(pairs.length);
          for (const probe of [...pairs.map(([k]) => k), ...probes]) {
            const want = [...(expected.get(Buffer.from(probe).toString("hex")) ?? [])].sort((a, b) => a - b);
            expect(table.all(probe)).toEqual(want);
            expect(table.first(probe)).toBe(expected.get(Buffer.from(probe).toString("hex"))?.[0]);
          }
        }),
        { numRuns: 30 },
      );
    });
  }

  test("insertIfAbsent adds a key only once, as a Map would, through many growths", () => {
    const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(fc.array(fc.oneof(key, fc.constant(new Uint8Array(32))), { maxLength: 3000 }), (keys) => {
        const table = new FixedKeyTable(32, [0x1111, 0x2222]);
        const map = new Map<string, number>();
        keys.forEach((k, position) => {
          const name = Buffer.from(k).toString("hex");
          expect(table.insertIfAbsent(k, position)).toBe(!map.has(name));
          if (!map.has(name)) map.set(name, position);
        });
        expect(table.size).toBe(map.size);
        for (const k of keys) expect(table.all(k)).toEqual([map.get(Buffer.from(k).toString("hex"))]);
      }),
      { numRuns: 30 },
    );
  });

  test("holds a hundred thousand keys that share their first bytes", () => {
    const table = new FixedKeyTable(32, [1, 2]);
    const key = (i: number): Buffer => {
      const bytes = Buffer.alloc(32, 0xab);
      bytes.writeUInt32BE(i, 28);
      return bytes;
    };
    for (let i = 0; i < 100_000; i++) table.insert(key(i), i);
    for (let i = 0; i < 100_000; i += 997) expect(table.first(key(i))).toBe(i);
    expect(table.first(key(100_000))).toBeUndefined();
  });
});

test("FixedKeyTable.reserve keeps what was inserted and takes more without losing any", () => {
  const table = new FixedKeyTable(16, [3, 4]);
  const key = (i: number): Buffer => Buffer.from(i.toString(16).padStart(32, "0"), "hex");
  for (let i = 0; i < 500; i++) table.insert(key(i), i);
  table.reserve(20_000);
  for (let i = 500; i < 20_000; i++) table.insert(key(i), i);
  for (let i = 0; i < 20_000; i += 7) expect(table.first(key(i))).toBe(i);
  expect(table.size).toBe(20_000);
});

describe("GrowableRecords", () => {
  test("keeps every record through growth and refuses records of another width", () => {
    const records = new GrowableRecords(4, 1);
    for (let i = 0; i < 1000; i++) records.push(Buffer.from([i & 255, i >> 8, 0, 7]));
    for (let i = 0; i < 1000; i += 37) expect(Buffer.from(records.view(i))).toEqual(Buffer.from([i & 255, i >> 8, 0, 7]));
    expect(() => records.push(new Uint8Array(5))).toThrow(RangeError);
    expect(() => records.view(1000)).toThrow(RangeError);
  });
});

describe("keyedHash32", () => {
  test("depends on the seed and on every byte", () => {
    const data = Buffer.alloc(32, 7);
    const base = keyedHash32([1, 2], data);
    expect(keyedHash32([1, 2], data)).toBe(base);
    expect(keyedHash32([1, 3], data)).not.toBe(base);
    for (let i = 0; i < 32; i++) {
      const changed = Buffer.from(data);
      changed[i]! ^= 1;
      expect(keyedHash32([1, 2], changed)).not.toBe(base);
    }
    expect(keyedHash32([1, 2], data.subarray(0, 31))).not.toBe(keyedHash32([1, 2], data.subarray(0, 30)));
  });

  test("spreads keys that differ only in their last bytes evenly over the slots", () => {
    const buckets = new Uint32Array(256);
    const key = Buffer.alloc(32, 0xab);
    for (let i = 0; i < 25_600; i++) {
      key.writeUInt32BE(i, 28);
      buckets[keyedHash32([5, 6], key) & 255]!++;
    }
    expect(Math.max(...buckets)).toBeLessThan(160);
    expect(Math.min(...buckets)).toBeGreaterThan(50);
  });
});
