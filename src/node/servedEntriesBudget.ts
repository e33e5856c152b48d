import { HashfedError } from "../errors";
import type { TimerHandle, Timers } from "../replica/environment";
import { systemTimers } from "./environment";
import { CountsByKey } from "../table";
import { TokenBucket } from "../peer/tokenBucket";

/** Why a Log call was refused at once: too many waiting for their turn. A client may try again later. */
export const LOG_BUSY = "LOG_BUSY";

/** Who is asking: calls from one network address wait in at most their share of the queue. */
export interface MeteredCall {
  readonly caller: string;
  /** Aborts when the client stops waiting: its call leaves the queue. */
  readonly abandoned?: AbortSignal;
}

interface Waiting {
  readonly estimate: number;
  readonly caller: string;
  readonly admit: () => void;
  readonly refuse: (error: HashfedError) => void;
}

/**
 * How many entries the public Log service reads and encodes a second, node-wide. A node spends
 * 12-14 µs of CPU per entry it serves (bench:audit), on the event loop consensus runs on, so a
 * caller anyone can be, asking for entries as fast as it could, would take a core from consensus.
 * A call is charged what it asks for when it is let in and what it served once it has: calls that
 * come while the second's entries are spent wait their turn, first come first served, and a call
 * is refused at once (RESOURCE_EXHAUSTED, LOG_BUSY) beyond `waitingMax` waiting, or beyond
 * `waitingPerCallerMax` from its caller's address, so that one caller cannot take every place. A
 * client that reads at its own pace, as the auditor does, sees slower answers, not errors.
 */
export class ServedEntriesBudget {
  private readonly entries: TokenBucket;
  private readonly queue: Waiting[] = [];
  private readonly waitingBy = new CountsByKey();
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly perSecond: number,
    private readonly waitingMax: number,
    private readonly waitingPerCallerMax: number,
    private readonly timers: Timers = systemTimers,
  ) {
    this.entries = new TokenBucket(perSecond, perSecond, timers.now());
  }

  /** Runs `serve` in its turn, charged `estimate` entries until it says how many it served. */
  async metered<T>(estimate: number, call: MeteredCall, serve: () => Promise<T>, served: (result: T) => number): Promise<T> {
    await this.turn(estimate, call);
    let spent = 0;
    try {
      const result = await serve();
      spent = served(result);
      return result;
    } finally {
      this.entries.spend(spent - estimate);
      this.admitWaiting();
    }
  }

  /** Refuses the calls waiting and any later one: the node is stopping. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiting of this.queue.splice(0)) waiting.refuse(stopping());
    this.waitingBy.clear();
  }

  private turn(estimate: number, { caller, abandoned }: MeteredCall): Promise<void> {
    if (this.closed) return Promise.reject(stopping());
    if (this.queue.length === 0 && this.entries.balance(this.timers.now()) > 0) {
      this.entries.spend(estimate);
      return Promise.resolve();
    }
    const fromCaller = this.waitingBy.of(caller);
    if (this.queue.length >= this.waitingMax || fromCaller >= this.waitingPerCallerMax) {
      const full = fromCaller >= this.waitingPerCallerMax ? `${fromCaller} of its calls from ${caller} are` : `${this.queue.length} calls are`;
      return Promise.reject(new HashfedError("exhausted", LOG_BUSY, `this node serves at most ${this.perSecond} entries a second through its Log service, and ${full} waiting; retry later`));
    }
    return new Promise((admit, refuse) => {
      const waiting: Waiting = { estimate, caller, admit, refuse };
      this.queue.push(waiting);
      this.waitingBy.add(caller);
      abandoned?.addEventListener("abort", () => this.leave(waiting), { once: true });
      this.wakeLater();
    });
  }

  /** A waiting call whose client went away: it takes no turn. */
  private leave(waiting: Waiting): void {
    const position = this.queue.indexOf(waiting);
    if (position < 0) return;
    this.queue.splice(position, 1);
    this.waitingBy.removeOne(waiting.caller);
    waiting.refuse(new HashfedError("unavailable", "LOG_CALL_ABANDONED", "the client stopped waiting"));
  }

  private admitWaiting(): void {
    while (this.queue.length > 0 && this.entries.balance(this.timers.now()) > 0) {
      const next = this.queue.shift()!;
      this.waitingBy.removeOne(next.caller);
      this.entries.spend(next.estimate);
      next.admit();
    }
    if (this.queue.length > 0) this.wakeLater();
  }

  /** Once the balance is positive again. */
  private wakeLater(): void {
    if (this.timer !== undefined || this.closed) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.entries.balance(this.timers.now())) * 1000) / this.perSecond));
    this.timer = this.timers.setTimeout(waitMs, () => {
      this.timer = undefined;
      this.admitWaiting();
    });
  }
}

function stopping(): HashfedError {
  return new HashfedError("unavailable", "NODE_STOPPING", "the node is stopping");
}
