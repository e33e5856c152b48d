/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Used to bound what one
 * peer may make a node do per second, and what the Log service serves; `now` is injected so the
 * limit is testable.
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes `cost` tokens if there are enough; false means over the limit. */
  take(cost: number, nowMs: number): boolean {
    if (this.balance(nowMs) < cost) return false;
    this.spend(cost);
    return true;
  }

  /** The tokens saved up at `nowMs`; below zero after spending more than there was. */
  balance(nowMs: number): number {
    // A clock that went back gives nothing, and takes nothing either.
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, nowMs - this.updatedMs) * this.ratePerSecond) / 1000);
    this.updatedMs = nowMs;
    return this.tokens;
  }

  /** Spends `cost` tokens whether or not there are so many (a cost known only afterwards); a negative cost gives some back. */
  spend(cost: number): void {
    this.tokens -= cost;
  }
}
