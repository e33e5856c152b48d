import { assert, AssertionError } from "../../src/assert";

/**
 * The simulator's discrete-event queue: the only clock of a simulated cluster. Events run in order
 * of (virtual time in ms, then insertion sequence), so two events at the same instant run in the
 * order they were scheduled, and a run is a pure function of its seed.
 *
 * It is a binary min-heap in which each event remembers its slot, so `cancel` removes an event in
 * O(log n) instead of leaving a tombstone (replicas cancel and re-arm timeouts constantly), and
 * `size` is exact. Virtual time never goes backwards: scheduling in the past is a programmer error.
 */

/** Names one scheduled event; `id` is its insertion sequence, unique for the queue's lifetime. */
export type EventHandle = { readonly id: number };

/** What observers see of an event just before its action runs. */
export interface EventInfo {
  readonly timeMs: number;
  readonly sequence: number;
  readonly label: string;
  /** The node the event concerns, for the trace; "" for cluster-wide events. */
  readonly node: string;
}

export type EventObserver = (event: EventInfo) => void;

export interface EventQueueOptions {
  /**
   * At most this many events pending at once. A simulation that exceeds it is scheduling without
   * bound (a timer storm, a message amplification loop): that is a bug, so it fails loudly.
   */
  readonly eventsPendingMax: number;
}

interface ScheduledEvent extends EventInfo {
  readonly action: () => void;
  /** The event's slot in the heap array, or -1 once it has run or been cancelled. */
  slot: number;
}

export class EventQueue {
  private readonly heap: ScheduledEvent[] = [];
  private readonly pending = new Map<number, ScheduledEvent>();
  private readonly observers: EventObserver[] = [];
  private readonly eventsPendingMax: number;
  private nowMs = 0;
  private sequenceNext = 0;
  private eventsRunCount = 0;

  constructor(options: EventQueueOptions) {
    assert(Number.isSafeInteger(options.eventsPendingMax) && options.eventsPendingMax > 0, "eventsPendingMax must be a positive integer");
    this.eventsPendingMax = options.eventsPendingMax;
  }

  /** Virtual time in ms: the time of the event running or last run (0 before the first). */
  get now(): number {
    return this.nowMs;
  }

  /** How many events are pending. */
  get size(): number {
    return this.heap.length;
  }

  /** How many events were ever scheduled (a monotonic counter: it moves whenever anything schedules). */
  get scheduledCount(): number {
    return this.sequenceNext;
  }

  /** How many events have run. */
  get runCount(): number {
    return this.eventsRunCount;
  }

  /** The time of the next event to run, or undefined when nothing is pending. */
  peekTimeMs(): number | undefined {
    return this.heap[0]?.timeMs;
  }

  /** Calls `observer` with each event just before its action runs (the trace hooks in here). */
  observe(observer: EventObserver): void {
    this.observers.push(observer);
  }

  /**
   * Schedules `action` at virtual time `atMs` (>= now; fractions of a ms are fine). Events at the same
   * time run in scheduling order. `node` names the node the event concerns, for the trace.
   */
  schedule(atMs: number, label: string, action: () => void, node = ""): EventHandle {
    // Hot path: the checks build their messages only on failure (assert() would build them every call).
    if (!Number.isFinite(atMs)) throw new AssertionError(`schedule "${label}": time must be finite, got ${atMs}`);
    if (atMs < this.nowMs) throw new AssertionError(`schedule "${label}": time ${atMs} is before now ${this.nowMs}`);
    if (this.heap.length >= this.eventsPendingMax) throw new AssertionError(`event queue full: ${this.heap.length} events pending (eventsPendingMax ${this.eventsPendingMax})`);
    const event: ScheduledEvent = { timeMs: atMs, sequence: this.sequenceNext++, label, node, action, slot: this.heap.length };
    this.heap.push(event);
    this.pending.set(event.sequence, event);
    this.siftUp(event.slot);
    return { id: event.sequence };
  }

  /** Removes a pending event. Returns false (and does nothing) if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    const event = this.pending.get(handle.id);
    if (event === undefined) return false;
    this.remove(event);
    return true;
  }

  /** Whether the event is still pending. */
  isPending(handle: EventHandle): boolean {
    return this.pending.has(handle.id);
  }

  /**
   * Advances virtual time to the next event, removes it and runs its action synchronously. Returns
   * false if nothing was pending. An exception from the action propagates: it is a failed run.
   */
  runNext(): boolean {
    const event = this.heap[0];
    if (event === undefined) return false;
    this.remove(event);
    assert(event.timeMs >= this.nowMs, "virtual time went backwards");
    this.nowMs = event.timeMs;
    this.eventsRunCount++;
    for (const observer of this.observers) observer(event);
    event.action();
    return true;
  }

  private remove(event: ScheduledEvent): void {
    const slot = event.slot;
    assert(slot >= 0 && this.heap[slot] === event, "event is not in the heap where it says it is");
    const last = this.heap.pop() as ScheduledEvent;
    this.pending.delete(event.sequence);
    event.slot = -1;
    if (last === event) return;
    this.heap[slot] = last;
    last.slot = slot;
    this.siftDown(slot);
    this.siftUp(last.slot);
  }

  private siftUp(start: number): void {
    let slot = start;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (!this.before(slot, parent)) return;
      this.swap(slot, parent);
      slot = parent;
    }
  }

  private siftDown(start: number): void {
    let slot = start;
    for (;;) {
      const left = 2 * slot + 1;
      const right = left + 1;
      let first = slot;
      if (left < this.heap.length && this.before(left, first)) first = left;
      if (right < this.heap.length && this.before(right, first)) first = right;
      if (first === slot) return;
      this.swap(slot, first);
      slot = first;
    }
  }

  /** Whether the event in slot a runs before the one in slot b: earlier time, then earlier sequence. */
  private before(a: number, b: number): boolean {
    const left = this.heap[a] as ScheduledEvent;
    const right = this.heap[b] as ScheduledEvent;
    return left.timeMs < right.timeMs || (left.timeMs === right.timeMs && left.sequence < right.sequence);
  }

  private swap(a: number, b: number): void {
    const held = this.heap[a] as ScheduledEvent;
    this.heap[a] = this.heap[b] as ScheduledEvent;
    this.heap[b] = held;
    (this.heap[a] as ScheduledEvent).slot = a;
    held.slot = b;
  }
}
