/**
 * At most one of something per peer per interval, for the same subject: the pace a correct peer
 * keeps (a status each status interval), for work whose cost a peer's message sets and its rate
 * limits do not bound (answering a listening validator; checking the messages in an answer to
 * this one). A new subject (a listening validator's next nonce) passes at once: a validator that
 * syncs and listens again asks again at once, and waiting out the interval each time had slowed
 * its catching up by seconds.
 */
export class PeerPace {
  private readonly last = new Map<string, { at: number; subject: bigint }>();

  constructor(private readonly intervalMs: number) {}

  /** Whether `peer` may have one about `subject` at `now`; if so, it counts. */
  take(peer: string, subject: bigint, now: number): boolean {
    const last = this.last.get(peer);
    if (last !== undefined && last.subject === subject && now - last.at < this.intervalMs) return false;
    this.last.set(peer, { at: now, subject });
    return true;
  }
}
