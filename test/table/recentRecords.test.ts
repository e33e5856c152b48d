/**
 * Goal: the ring behind the tree's recent nodes holds exactly the latest `capacity` records of the
 * run being written, through its growths, and what it hands out does not change when a later write
 * reuses the slot. Method: random runs (with restarts at other indexes) against a plain Map model.
 */
import fc from "fast-check";
import { RecentRecords } from "../../src/table";

const record = (index: number): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, index);
  return bytes;
};

describe("RecentRecords", () => {
  test("holds the latest `capacity` records of the current run, as a Map trimmed to them would", () => {
    const run = fc.tuple(fc.nat({ max: 1_000_000 }), fc.integer({ min: 1, max: 2500 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.array(run, { minLength: 1, maxLength: 4 }), (capacity, runs) => {
        const ring = new RecentRecords(8, capacity);
        let model = new Map<number, Uint8Array>();
        for (const [start, length] of runs) {
          if (start !== Math.max(-1, ...model.keys()) + 1) model = new Map();
          for (let index = start; index < start + length; index++) {
            ring.put(index, record(index));
            model.set(index, record(index));
            if (model.size > capacity) model.delete(model.keys().next().value!);
          }
        }
        expect(ring.size).toBe(model.size);
        const last = runs[runs.length - 1]!;
        const got: [number, boolean, Buffer | undefined][] = [];
        const want: [number, boolean, Buffer | undefined][] = [];
        for (let index = Math.max(0, last[0] - 10); index < last[0] + last[1] + 10; index++) {
          got.push([index, ring.has(index), ring.copy(index)]);
          want.push([index, model.has(index), model.has(index) ? Buffer.from(model.get(index)!) : undefined]);
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 20 },
    );
  });

  test("a record handed out keeps its bytes when a later write takes its slot", () => {
    const ring = new RecentRecords(8, 4);
    for (let index = 0; index < 4; index++) ring.put(index, record(index));
    const first = ring.copy(0)!;
    ring.put(4, record(4));
    expect(ring.has(0)).toBe(false);
    expect(first).toEqual(Buffer.from(record(0)));
  });

  test("refuses a record of the wrong width and an index that is not a whole number", () => {
    const ring = new RecentRecords(8, 4);
    expect(() => ring.put(0, new Uint8Array(7))).toThrow(RangeError);
    expect(() => ring.put(-1, record(0))).toThrow(RangeError);
    expect(() => ring.put(1.5, record(0))).toThrow(RangeError);
    expect(() => new RecentRecords(8, 0)).toThrow(RangeError);
  });
});
