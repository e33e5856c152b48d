/**
 * Whom a node that is behind asks for heights. Not a peer passed over lately (one whose request
 * lapsed, or whose answer was short of what it said it had), and of the others that have the
 * heights, the one whose last answer came quickest: a Byzantine validator answering in full but
 * late, asked again after each answer, had slowed an observer to a quarter of the pace.
 * A peer never asked counts as quickest, so each is tried once. Only peers whose status came lately
 * count: one that answered quickest and then went down was asked first, each time, and the request
 * left to lapse.
 */
export class SyncPeers {
  private readonly passedOverUntil = new Map<string, number>();
  /** When each peer's last status came. */
  private readonly heardAt = new Map<string, number>();
  /** How long each peer's last asked answer took (a lapsed request counts as its lapse). */
  private readonly answerMs = new Map<string, number>();

  /** `silentMs`: a peer whose last status is older than this is not chosen. */
  constructor(private readonly silentMs: number) {}

  heard(peer: string, now: number): void {
    this.heardAt.set(peer, now);
  }

  passOver(peer: string, until: number): void {
    this.passedOverUntil.set(peer, until);
  }

  /** `peer`'s answer was as good as a correct peer's. */
  restore(peer: string): void {
    this.passedOverUntil.delete(peer);
  }

  isPassedOver(peer: string, now: number): boolean {
    return (this.passedOverUntil.get(peer) ?? -Infinity) > now;
  }

  answered(peer: string, tookMs: number): void {
    this.answerMs.set(peer, tookMs);
  }

  /** Of `candidates` heard from lately and not passed over at `now`, the quickest; the first of equals, in the order given. */
  choose(candidates: Iterable<string>, now: number): string | undefined {
    let chosen: string | undefined;
    let chosenMs = Infinity;
    for (const peer of candidates) {
      if (this.isPassedOver(peer, now) || now - (this.heardAt.get(peer) ?? -Infinity) > this.silentMs) continue;
      const ms = this.answerMs.get(peer) ?? 0;
      if (ms < chosenMs) [chosen, chosenMs] = [peer, ms];
    }
    return chosen;
  }
}
