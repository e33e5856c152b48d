/**
 * The peers whose gossiped statements a replica ignores for a while (see FORGED_GOSSIP_IGNORED_MS),
 * on the replica's clock: a clock set back ends the while rather than stretching it.
 */
export class GossipIgnores {
  private readonly since = new Map<string, number>();

  constructor(private readonly forMs: number) {}

  /** Whether `peer`'s gossip is ignored at `now`. */
  ignores(peer: string, now: number): boolean {
    const since = this.since.get(peer);
    return since !== undefined && since <= now && now - since < this.forMs;
  }

  /** Ignores `peer`'s gossip from `now`; false if it already was. */
  ignore(peer: string, now: number): boolean {
    if (this.ignores(peer, now)) return false;
    this.since.set(peer, now);
    return true;
  }
}
