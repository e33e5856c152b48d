import { createHash, type Hash } from "node:crypto";
import { assert } from "../../src/assert";
import type { EventInfo, EventQueue } from "./eventQueue";

/**
 * What happened in a run, in two forms. The last `capacity` events are kept as text lines in a ring
 * buffer (bounded memory however long the run), printed when a run fails. Every event ever recorded
 * also goes into a rolling SHA-256 of the whole sequence, so two runs of one seed can be compared
 * by one hash: equal hashes mean the same events, at the same virtual times, in the same order.
 *
 * The hash covers each time exactly (`String(timeMs)`, the shortest round-trip form), while the
 * printed lines round it to µs for reading.
 */
export class Trace {
  private readonly ring: string[];
  private readonly hasher: Hash = createHash("sha256");
  private recordedCount = 0;

  private keptCount = 0;

  /**
   * Keeps the last `capacity` (>= 1) lines. Lines for which `hashOnly(label)` is true go into the
   * hash but not into the ring: routine events (deliveries, timers) would otherwise push the lines
   * that explain a failure out of a report.
   */
  constructor(
    readonly capacity: number,
    private readonly hashOnly: (label: string) => boolean = () => false,
  ) {
    assert(Number.isSafeInteger(capacity) && capacity >= 1, `trace capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<string>(capacity);
  }

  /** Records every event of `queue` as it runs (label and node as scheduled). */
  attach(queue: EventQueue): void {
    queue.observe((event: EventInfo) => this.record(event.timeMs, event.node, event.label));
  }

  /** Records one line; `node` is "" for cluster-wide lines. Labels should not contain newlines. */
  record(timeMs: number, node: string, label: string): void {
    this.hasher.update(`${String(timeMs)}\t${node}\t${label}\n`);
    this.recordedCount++;
    if (this.hashOnly(label)) return;
    this.ring[this.keptCount % this.capacity] = `${timeMs.toFixed(3).padStart(12)}ms ${(node === "" ? "-" : node).padEnd(8)} ${label}`;
    this.keptCount++;
  }

  /** How many lines were ever recorded (the ring holds at most `capacity` of those kept). */
  get count(): number {
    return this.recordedCount;
  }

  /** Hex SHA-256 of every line recorded so far; recording may go on afterwards. */
  get hash(): string {
    return this.hasher.copy().digest("hex");
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    const kept = Math.min(this.keptCount, this.capacity);
    const first = this.keptCount - kept;
    const lines: string[] = [];
    for (let index = first; index < this.keptCount; index++) lines.push(this.ring[index % this.capacity] as string);
    return lines;
  }

  /** The failure report's trace section: a header saying how much was left out, then the kept lines. */
  format(): string {
    const kept = Math.min(this.keptCount, this.capacity);
    const hidden = this.recordedCount - this.keptCount;
    const header = `last ${kept} of ${this.recordedCount} events${hidden > 0 ? ` (${hidden} routine ones hashed, not shown)` : ""} (trace hash ${this.hash.slice(0, 16)}):`;
    return [header, ...this.lines()].join("\n");
  }
}
