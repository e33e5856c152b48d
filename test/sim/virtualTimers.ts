import { AssertionError } from "../../src/assert";
import type { EventQueue } from "./eventQueue";

/**
 * Timers in virtual time: what a replica uses instead of the global setTimeout and Date.now, so
 * that under simulation its timeouts are events on the EventQueue and fire at exact, seeded times.
 *
 * `Timers` and `TimerHandle` live here until src/replica defines its own matching interface; the
 * two are structurally identical, so a VirtualTimers can be passed wherever the replica's is wanted.
 *
 * One VirtualTimers belongs to one incarnation of one node. When the node crashes, the cluster calls
 * `close()`: its pending timeouts never fire, and any timeout that a dead incarnation's leftover
 * promise chain tries to set afterwards is ignored. A restarted node gets a new VirtualTimers.
 */

export type TimerHandle = { readonly id: number };

export interface Timers {
  /** Milliseconds since the start of the run (virtual time; fractions possible). */
  now(): number;
  /** Calls `callback` once, `delayMs` (>= 0) from now. */
  setTimeout(delayMs: number, callback: () => void): TimerHandle;
  /** Cancels a timeout; a no-op if it already fired, was cleared, or is not one of ours. */
  clearTimeout(handle: TimerHandle): void;
}

/** Handles returned after close(); never pending, so clearing them is a no-op. */
const CLOSED_HANDLE_ID = -1;

export class VirtualTimers implements Timers {
  private readonly live = new Set<number>();
  private closed = false;

  /** `node` labels this incarnation's timer events in the trace. */
  constructor(
    private readonly queue: EventQueue,
    private readonly node: string,
  ) {}

  now(): number {
    return this.queue.now;
  }

  setTimeout(delayMs: number, callback: () => void): TimerHandle {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new AssertionError(`setTimeout on ${this.node}: delay must be finite and >= 0, got ${delayMs}`);
    if (this.closed) return { id: CLOSED_HANDLE_ID };
    let id = CLOSED_HANDLE_ID;
    const handle = this.queue.schedule(
      this.queue.now + delayMs,
      "timer",
      () => {
        this.live.delete(id);
        callback();
      },
      this.node,
    );
    id = handle.id;
    this.live.add(id);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    if (!this.live.delete(handle.id)) return;
    this.queue.cancel(handle);
  }

  /** How many of this incarnation's timeouts are pending. */
  get pendingCount(): number {
    return this.live.size;
  }

  /** Ends this incarnation: cancels every pending timeout and ignores any set later. Idempotent. */
  close(): void {
    this.closed = true;
    for (const id of this.live) this.queue.cancel({ id });
    this.live.clear();
  }
}
