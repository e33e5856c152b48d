/**
 * The rounds ahead that other validators' messages may occupy at one height. A message of the
 * current round or the next always counts. One of a round beyond counts only while its signer has
 * fewer than `perValidatorMax` such rounds still ahead of this node (CometBFT's catch-up rounds):
 * otherwise one Byzantine validator could sign votes and proposals for a million rounds, each kept
 * and counted until the height ends, and a node's memory and every round-skip check would grow
 * with them. Correct validators that moved on still pull a lagging node along: their rounds ahead
 * come into view one or two at a time, f+1 of them at one round make it skip there (L55), and
 * rounds it has reached no longer count against anyone.
 */
export class RoundsAhead {
  /** Per validator, the rounds beyond the next it had a message counted in at this height. */
  private readonly admitted = new Map<string, Set<number>>();

  constructor(private readonly perValidatorMax: number) {}

  /** Whether a message of `validator` in `round` may count, with this node at `current`; records nothing. */
  admits(validator: string, round: number, current: number): boolean {
    if (round <= current + 1) return true;
    const rounds = this.admitted.get(validator);
    if (rounds === undefined || rounds.has(round)) return true;
    let ahead = 0;
    for (const counted of rounds) if (counted > current + 1) ahead++;
    return ahead < this.perValidatorMax;
  }

  /** Records that a message of `validator` in `round` counted (its signature checked, admits true). */
  record(validator: string, round: number, current: number): void {
    if (round <= current + 1) return;
    const rounds = this.admitted.get(validator) ?? new Set<number>();
    // Rounds this node has reached count against nobody: dropped here, so the set stays small.
    for (const counted of rounds) if (counted <= current + 1) rounds.delete(counted);
    rounds.add(round);
    this.admitted.set(validator, rounds);
  }

  /** A new height: nothing is ahead yet. */
  clear(): void {
    this.admitted.clear();
  }
}
