/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Used to bound what one
 * peer may make a node do per second; `now` is injected so the limit is testable.
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
    // A clock that went back gives nothing, and takes nothing either.
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, nowMs - this.updatedMs) * this.ratePerSecond) / 1000);
    this.updatedMs = nowMs;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}
