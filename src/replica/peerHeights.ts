/**
 * Where each peer validator stands: the height its statuses report, when this node first heard it
 * at that height, and when it last heard anything from it. A propose timeout asks it whether the
 * round's proposer has had its time yet (see Replica's proposeTimeout).
 */
export class PeerHeights {
  private readonly peers = new Map<string, { height: bigint; since: number; heardAt: number }>();

  /** Any message from `peer`, or a proposal or vote of this height it signed, through any peer: it is alive. Under load its statuses come late (at 7 validators on two cores, one gap in ten was over 0.7 s); its other messages keep coming. */
  heard(peer: string, now: number): void {
    const known = this.peers.get(peer);
    if (known !== undefined) known.heardAt = now;
  }

  /** A status from `peer` at `height`. */
  reported(peer: string, height: bigint, now: number): void {
    const known = this.peers.get(peer);
    if (known === undefined || known.height !== height) this.peers.set(peer, { height, since: now, heardAt: now });
    else known.heardAt = now;
  }

  /** Whether `peer`, heard from before, has sent nothing for `ms` or more at `now`; a peer never heard from is not judged. */
  silentFor(peer: string, now: number, ms: number): boolean {
    const known = this.peers.get(peer);
    return known !== undefined && now - known.heardAt >= ms;
  }

  /**
   * Until when a propose timeout of `height` waits for `proposer`, or undefined to act now. A
   * proposer that reports the height before is still finishing it; one first reported at `height`
   * at time t has until t + `proposeMs`, the propose timeout it would have had had it started the
   * height when this node did. Either way only while it is heard from: the wait ends when `aliveMs`
   * pass without a message, so a proposer that crashes costs at most `aliveMs` more. A proposer
   * never reported, further behind (catching up after a restart, which takes longer than a round)
   * or past `height` gets no more time.
   */
  proposerDue(proposer: string, height: bigint, now: number, proposeMs: number, aliveMs: number): number | undefined {
    const known = this.peers.get(proposer);
    if (known === undefined || now - known.heardAt >= aliveMs) return undefined;
    const silentAt = known.heardAt + aliveMs;
    if (known.height === height - 1n) return silentAt;
    if (known.height === height && known.since + proposeMs > now) return Math.min(known.since + proposeMs, silentAt);
    return undefined;
  }
}
