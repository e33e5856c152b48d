/**
 * The signed messages sent to each peer lately, by signature: a status that crosses a message in
 * flight says the peer lacks it, and re-sending a proposal at every status (when proposals carried
 * their whole batches) is what kept a loaded federation slow. A message is re-sent once
 * `intervalMs` has passed since it was last sent, so a lost one still comes again.
 *
 * A message heard, from its signer or a relay, counts as sent to every peer when it first arrived:
 * its signer sent it to all of them no later, so a status that lacks it within the interval has
 * most likely crossed it, and a relay would be a second copy.
 */
/** Messages remembered as heard at one height: far more than a height's correct messages at any federation size here. */
const HEARD_MAX = 4096;

export class RecentSends {
  private sent = new Map<string, number>();
  private heardAt = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  /** Whether `message` may go to `peer` now, `intervalMs` after it last went or arrived; if so, it counts as sent. */
  admit(peer: string, signature: Uint8Array, now: number, intervalMs = this.intervalMs): boolean {
    const name = Buffer.from(signature).toString("base64");
    const heard = this.heardAt.get(name);
    if (heard !== undefined && now - heard < intervalMs) return false;
    const key = `${peer}/${name}`;
    const last = this.sent.get(key);
    if (last !== undefined && now - last < intervalMs) return false;
    this.sent.set(key, now);
    return true;
  }

  /**
   * A message of the current height arrived; only its first arrival counts. Bounded: a Byzantine
   * validator can sign any number of messages a height, each heard before the vote keeper drops it;
   * when full, what was heard is forgotten, which costs a few re-sends at worst.
   */
  heard(signature: Uint8Array, now: number): void {
    const name = Buffer.from(signature).toString("base64");
    if (this.heardAt.has(name)) return;
    if (this.heardAt.size >= HEARD_MAX) this.heardAt = new Map();
    this.heardAt.set(name, now);
  }

  /** At a new height: nothing of the last one is sent again. */
  clear(): void {
    this.sent = new Map();
    this.heardAt = new Map();
  }
}
