import { HashfedError } from "../errors";
import type { TimerHandle, Timers } from "../replica/environment";
import { systemTimers } from "./environment";

interface Waiting {
  readonly estimate: number;
  readonly admit: () => void;
}

/**
 * How many entries the public Log service reads and encodes a second, node-wide. A node spends
 * 12-14 µs of CPU per entry it serves (bench:audit), on the event loop consensus runs on, so a
 * caller anyone can be, asking for entries as fast as it could, would take a core from consensus.
 * A call is charged what it asks for when it is let in and what it served once it has: calls that
 * come while the second's entries are spent wait their turn, first come first served, and beyond
 * `waitingMax` waiting one is refused at once (RESOURCE_EXHAUSTED, LOG_BUSY). A client that reads
 * at its own pace, as the auditor does, sees slower answers, not errors.
 */
export class ServedEntriesBudget {
  private balance: number;
  private updatedMs: number;
  private readonly queue: Waiting[] = [];
  private timer: TimerHandle | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly waitingMax: number,
    private readonly timers: Timers = systemTimers,
  ) {
    this.balance = perSecond;
    this.updatedMs = timers.now();
  }

  /** Runs `serve` in its turn, charged `estimate` entries until it says how many it served. */
  async metered<T>(estimate: number, serve: () => Promise<T>, served: (result: T) => number): Promise<T> {
    await this.turn(estimate);
    let spent = 0;
    try {
      const result = await serve();
      spent = served(result);
      return result;
    } finally {
      this.balance += estimate - spent;
      this.admitWaiting();
    }
  }

  private turn(estimate: number): Promise<void> {
    this.refill();
    if (this.queue.length === 0 && this.balance > 0) {
      this.balance -= estimate;
      return Promise.resolve();
    }
    if (this.queue.length >= this.waitingMax) {
      return Promise.reject(
        new HashfedError("exhausted", "LOG_BUSY", `this node serves at most ${this.perSecond} entries a second through its Log service, and ${this.queue.length} calls are waiting; retry later`),
      );
    }
    return new Promise((admit) => {
      this.queue.push({ estimate, admit });
      this.wakeLater();
    });
  }

  private admitWaiting(): void {
    this.refill();
    while (this.queue.length > 0 && this.balance > 0) {
      const next = this.queue.shift()!;
      this.balance -= next.estimate;
      next.admit();
    }
    if (this.queue.length > 0) this.wakeLater();
  }

  /** Once the balance is positive again. */
  private wakeLater(): void {
    if (this.timer !== undefined) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.balance) * 1000) / this.perSecond));
    this.timer = this.timers.setTimeout(waitMs, () => {
      this.timer = undefined;
      this.admitWaiting();
    });
  }

  private refill(): void {
    const now = this.timers.now();
    this.balance = Math.min(this.perSecond, this.balance + ((now - this.updatedMs) * this.perSecond) / 1000);
    this.updatedMs = now;
  }
}
