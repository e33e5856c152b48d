import type { TimerHandle, Timers } from "../../src/replica/environment";

/** Timers on a clock that moves only when the test says. */
export class ManualTimers implements Timers {
  private time = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(delayMs: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + delayMs, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Moves the clock to `time`, firing what falls due on the way, in order. A replica's timer only
   * queues its task, which runs once the test awaits, with the clock already at `time`: a test that
   * reads the time of an effect steps exactly to the moment it expects.
   */
  advanceTo(time: number): void {
    for (;;) {
      const due = [...this.pending].filter(([, timer]) => timer.at <= time).sort(([, a], [, b]) => a.at - b.at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = time;
  }
}
