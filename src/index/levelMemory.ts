import { assert, AssertionError } from "../assert";
import { PARTNER_SCAN_WASM } from "../gen/wasm/partnerScan";
import { flipMasks, HALF_BITS, HALF_RADIUS_MAX, HALVES } from "./pdqProbePlan";

/** Records one scan takes: two per bucket a search visits in a level (at most 16 halves x 697), its line's partners and its region's. */
export const SCAN_RECORDS_MAX = 2 * HALVES * flipMasks(HALF_BITS).weightStarts[HALF_RADIUS_MAX + 1]!;
/** Passing postings the output holds; a scan that finds more stops, and resumes once they are read. */
export const SCAN_PASSING_MAX = 4096;
/** A WebAssembly memory is addressed by 32-bit byte offsets. */
const LEVEL_MEMORY_BYTES_MAX = 2 ** 32;
const RECORD_WORDS = 3;
/** The last eight-posting load of a range may read this far past the level's end. */
const SLACK_BYTES = 16;
const WASM_PAGE_BYTES = 65_536;

type ScanPartners = (records: number, first: number, end: number, out: number, capacity: number) => number;

let partnerScanModule: WebAssembly.Module | undefined;

/**
 * A level's lines and regions (see PdqLevel), in a WebAssembly memory of their own, with the partner
 * scan (partnerScan.wat) that tests eight postings at a time with SIMD: about three times the speed
 * of the same loop in JavaScript, which tests one. A memory per level, so that a level dropped after
 * a merge is freed with it. After the level: the records of the ranges to scan, and the output.
 */
export class LevelMemory {
  /** The level, 16-bit units from byte 0; zeroed, written by the level's build. */
  readonly units: Uint16Array;
  /** The same memory as 32-bit words: word w is units 2w and 2w + 1. */
  readonly words: Uint32Array;
  /** Per record: first position, end position, then partner | radius << 16. */
  private readonly records: Uint32Array;
  /** The count of passing postings, then per posting its position and its record. */
  private readonly output: Uint32Array;
  private readonly recordsAt: number;
  private readonly outputAt: number;
  private readonly scanPartners: ScanPartners;
  readonly byteLength: number;

  constructor(units: number) {
    assert(Number.isInteger(units) && units >= 0 && units % 2 === 0, `a level is a whole number of 32-bit words, got ${units} units`);
    const recordsAt = Math.ceil((2 * units + SLACK_BYTES) / 8) * 8;
    const outputAt = recordsAt + 4 * RECORD_WORDS * SCAN_RECORDS_MAX;
    const bytes = outputAt + 4 * (1 + 2 * SCAN_PASSING_MAX);
    assert(bytes <= LEVEL_MEMORY_BYTES_MAX, `a level's memory is at most ${LEVEL_MEMORY_BYTES_MAX} bytes, a level of ${units} units needs ${bytes}`);
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / WASM_PAGE_BYTES) });
    partnerScanModule ??= new WebAssembly.Module(PARTNER_SCAN_WASM);
    const instance = new WebAssembly.Instance(partnerScanModule, { level: { memory } });
    this.scanPartners = instance.exports.scanPartners as ScanPartners;
    // The memory never grows, so these views stay valid.
    this.units = new Uint16Array(memory.buffer, 0, units);
    this.words = new Uint32Array(memory.buffer, 0, units / 2);
    this.records = new Uint32Array(memory.buffer, recordsAt, RECORD_WORDS * SCAN_RECORDS_MAX);
    this.output = new Uint32Array(memory.buffer, outputAt, 1 + 2 * SCAN_PASSING_MAX);
    this.recordsAt = recordsAt;
    this.outputAt = outputAt;
    this.byteLength = memory.buffer.byteLength;
  }

  /** Record `record` is to scan positions [first, end) for partners within `radius` (0..16; a search's are 0..7) of `partner`. */
  setRecord(record: number, first: number, end: number, partner: number, radius: number): void {
    const at = RECORD_WORDS * record;
    this.records[at] = first;
    this.records[at + 1] = end;
    this.records[at + 2] = partner | (radius << 16);
  }

  /**
   * Scans records [first, end) until the output is full (SCAN_PASSING_MAX) or they are done; returns
   * the record to resume from, `end` when done. It consumes the records: the one it stopped in now
   * starts where the scan stopped, so set them again to scan them again. The passing postings are then passingCount,
   * passingPosition(i) and passingRecord(i), in record order, positions ascending within a record.
   */
  scan(first: number, end: number): number {
    // Once per level a search visits: the message is built only when it is needed.
    if (!(first >= 0 && first <= end && end <= SCAN_RECORDS_MAX)) throw new AssertionError(`records ${first}..${end} outside 0..${SCAN_RECORDS_MAX}`);
    return this.scanPartners(this.recordsAt, first, end, this.outputAt, SCAN_PASSING_MAX);
  }

  get passingCount(): number {
    return this.output[0]!;
  }

  passingPosition(i: number): number {
    return this.output[1 + 2 * i]!;
  }

  passingRecord(i: number): number {
    return this.output[2 + 2 * i]!;
  }
}
