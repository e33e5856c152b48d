/**
 * Goal: the typed-array multimap behind statement-id lookups and exact matching answers exactly as a
 * plain Map of arrays would, through many growths, with duplicate keys and keys of every width used.
 * Method: fast-check runs random insert/lookup sequences against the naive model.
 */
import fc from "fast-check";
import { FixedKeyTable, GrowableRecords } from "../../src/table";

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
          const table = new FixedKeyTable(width);
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

  test("holds a hundred thousand keys that share their first bytes", () => {
    const table = new FixedKeyTable(32);
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

describe("GrowableRecords", () => {
  test("keeps every record through growth and refuses records of another width", () => {
    const records = new GrowableRecords(4, 1);
    for (let i = 0; i < 1000; i++) records.push(Buffer.from([i & 255, i >> 8, 0, 7]));
    for (let i = 0; i < 1000; i += 37) expect(Buffer.from(records.view(i))).toEqual(Buffer.from([i & 255, i >> 8, 0, 7]));
    expect(() => records.push(new Uint8Array(5))).toThrow(RangeError);
    expect(() => records.view(1000)).toThrow(RangeError);
  });
});
