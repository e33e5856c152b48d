/** Refusals logged in an interval; past that they are counted, and the count logged after it. */
const REFUSALS_LOGGED_PER_INTERVAL = 10;
const REFUSAL_LOG_INTERVAL_MS = 10_000;

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
  ) {}

  refused(line: string): void {
    const now = this.now();
    if (now - this.intervalStartMs >= REFUSAL_LOG_INTERVAL_MS) {
      if (this.unlogged > 0) this.log(`refused ${this.unlogged} more ${this.what}, not logged one by one`);
      this.intervalStartMs = now;
      this.logged = 0;
      this.unlogged = 0;
    }
    if (this.logged < REFUSALS_LOGGED_PER_INTERVAL) {
      this.logged++;
      this.log(line);
    } else this.unlogged++;
  }
}
