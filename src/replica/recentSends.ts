/**
 * The signed messages sent to each peer lately, by signature: a status that crosses a message in
 * flight says the peer lacks it, and re-sending a proposal with its whole batch at every status is
 * what kept a loaded federation slow. A message is re-sent once `intervalMs` has passed since it was
 * last sent, so a lost one still comes again.
 */
export class RecentSends {
  private sent = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Whether `message` may go to `peer` now; if so, it counts as sent. */
  admit(peer: string, signature: Uint8Array, now: number): boolean {
    const key = `${peer}/${Buffer.from(signature).toString("base64")}`;
    const last = this.sent.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.sent.set(key, now);
    return true;
  }

  /** At a new height: nothing of the last one is sent again. */
  clear(): void {
    this.sent = new Map();
  }
}
