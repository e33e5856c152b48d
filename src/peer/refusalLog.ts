/** Refusals logged in an interval; past that they are counted, and the count logged when it ends. */
const REFUSALS_LOGGED_PER_INTERVAL = 10;
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** Runs `then` after `ms`, without keeping the process up for it. */
export type Later = (ms: number, then: () => void) => void;

const unrefTimer: Later = (ms, then) => void setTimeout(then, ms).unref();

/** The log of refusals, bounded: anyone who can reach a port can make a node refuse, as fast as it opens streams or connections. */
export class RefusalLog {
  private intervalStartMs = -Infinity;
  private logged = 0;
  private unlogged = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly now: () => number,
    /** What is refused, for the count: "peer connections", say. */
    private readonly what: string,
    private readonly later: Later = unrefTimer,
  ) {}

  refused(line: string): void {
    const now = this.now();
    if (now - this.intervalStartMs >= REFUSAL_LOG_INTERVAL_MS) {
      this.logCount();
      this.intervalStartMs = now;
      this.logged = 0;
    }
    if (this.logged < REFUSALS_LOGGED_PER_INTERVAL) {
      this.logged++;
      this.log(line);
      return;
    }
    // Said when the interval ends, whether or not another refusal comes: a flood that stopped had gone uncounted.
    if (this.unlogged === 0) this.later(this.intervalStartMs + REFUSAL_LOG_INTERVAL_MS - now, () => this.logCount());
    this.unlogged++;
  }

  private logCount(): void {
    if (this.unlogged > 0) this.log(`refused ${this.unlogged} more ${this.what}, not logged one by one`);
    this.unlogged = 0;
  }
}
