/**
 * Goal: the WebAssembly partner scan finds exactly the postings a plain loop finds, in the same
 * order, however the ranges fall (lengths not a multiple of eight, ranges at the regions' end, empty
 * ones), at every radius; more passing postings than the output holds are all delivered, across
 * resumed scans; and the committed module is the assembly of its .wat. Method: fast-check against a
 * reference written the obvious way.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { LevelMemory, SCAN_PASSING_MAX, SCAN_RECORDS_MAX } from "../../src/index/levelMemory";
import { generatedWasmFile, WASM_MODULES } from "../../scripts/wasmModules";

const ROOT = path.resolve(__dirname, "../..");

interface ScanRecord {
  first: number;
  end: number;
  partner: number;
  radius: number;
}

function bitsSet(value: number): number {
  let count = 0;
  for (let rest = value; rest !== 0; rest &= rest - 1) count++;
  return count;
}

/** [position, record] of every passing posting, by the obvious loops. */
function reference(regions: Uint16Array, records: readonly ScanRecord[]): [number, number][] {
  const passing: [number, number][] = [];
  records.forEach(({ first, end, partner, radius }, record) => {
    for (let position = first; position < end; position++) if (bitsSet(regions[position]! ^ partner) <= radius) passing.push([position, record]);
  });
  return passing;
}

/** The same by LevelMemory.scan, resuming until done. */
function scanned(memory: LevelMemory, records: readonly ScanRecord[]): [number, number][] {
  records.forEach(({ first, end, partner, radius }, record) => memory.setRecord(record, first, end, partner, radius));
  const passing: [number, number][] = [];
  for (let next = 0; next < records.length; ) {
    next = memory.scan(next, records.length);
    for (let i = 0; i < memory.passingCount; i++) passing.push([memory.passingPosition(i), memory.passingRecord(i)]);
  }
  return passing;
}

/** A memory of `units` regions filled from `values` (cycled), so that the slack after the regions stays as the level leaves it. */
function filledMemory(units: number, values: readonly number[]): LevelMemory {
  const memory = new LevelMemory(units);
  for (let unit = 0; unit < units; unit++) memory.units[unit] = values[unit % values.length]!;
  return memory;
}

describe("LevelMemory.scan", () => {
  test("finds what a plain loop finds, in order, for any ranges, partners and radii", () => {
    const scenario = fc
      .record({
        units: fc.integer({ min: 1, max: 150 }).map((words) => 2 * words),
        values: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 64 }),
      })
      .chain(({ units, values }) =>
        fc.record({
          units: fc.constant(units),
          values: fc.constant(values),
          records: fc.array(
            fc
              .record({ a: fc.integer({ min: 0, max: units }), b: fc.integer({ min: 0, max: units }), partner: fc.integer({ min: 0, max: 0xffff }), radius: fc.integer({ min: 0, max: 16 }) })
              .map(({ a, b, partner, radius }) => ({ first: Math.min(a, b), end: Math.max(a, b), partner, radius })),
            { maxLength: 40 },
          ),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ units, values, records }) => {
        const memory = filledMemory(units, values);
        expect(scanned(memory, records)).toEqual(reference(memory.units, records));
      }),
      { numRuns: 300 },
    );
  });

  test("a range ending short of a multiple of eight takes none of the units after it, even ones that would pass", () => {
    const memory = filledMemory(64, [0x1234]);
    // Radius 16 passes every posting: exactly the range's 13 come back.
    expect(scanned(memory, [{ first: 3, end: 16, partner: 0, radius: 16 }])).toEqual(reference(memory.units, [{ first: 3, end: 16, partner: 0, radius: 16 }]));
    expect(scanned(memory, [{ first: 3, end: 16, partner: 0, radius: 16 }])).toHaveLength(13);
  });

  test("more passing postings than the output holds arrive over resumed scans, none lost or repeated", () => {
    const units = 3 * SCAN_PASSING_MAX + 6;
    const memory = filledMemory(units, [0x00ff, 0xffff, 0x0001]);
    const records: ScanRecord[] = [
      { first: 0, end: 7, partner: 0, radius: 16 },
      { first: 1, end: units, partner: 0, radius: 16 },
      { first: 0, end: units, partner: 0x0001, radius: 1 },
    ];
    const passing = scanned(memory, records);
    expect(passing.length).toBeGreaterThan(2 * SCAN_PASSING_MAX);
    expect(passing).toEqual(reference(memory.units, records));
  });

  test("refuses more records than a search visits", () => {
    const memory = new LevelMemory(8);
    expect(() => memory.scan(0, SCAN_RECORDS_MAX + 1)).toThrow(/records 0\.\.\d+ outside/);
  });
});

describe("the committed WebAssembly", () => {
  test.each(WASM_MODULES.map((source) => [source.wat, source]))("%s is assembled into its generated file (npm run wasm)", async (_, source) => {
    expect(readFileSync(path.join(ROOT, source.generated), "utf8")).toBe(await generatedWasmFile(ROOT, source));
  });
});
