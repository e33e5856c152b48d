import { assert } from "../assert";
import type { Round, ValueId, VoteKind } from "./types";

/** A vote as the keeper counts it; `payload` is the signed message, kept for certificates and evidence. */
export interface CountedVote<P> {
  readonly kind: VoteKind;
  readonly round: Round;
  /** null for a vote for nil. */
  readonly valueId: ValueId | null;
  readonly validator: string;
  readonly payload: P;
}

export type VoteAddition<P> =
  | { readonly kind: "added" }
  | { readonly kind: "repeated" }
  /** The validator already voted differently for this (round, kind): the first vote stays counted. */
  | { readonly kind: "equivocation"; readonly first: CountedVote<P> };

/** The votes of one kind in one round: the first vote of each validator, and tallies per value. */
class RoundVotes<P> {
  readonly byValidator = new Map<string, CountedVote<P>>();
  readonly tally = new Map<ValueId | null, number>();
}

/**
 * Counts the votes of one height, separately from the round state machine (as Malachite's
 * core-votekeeper does). Each validator counts once per (round, kind): a second, different vote is
 * equivocation, reported as evidence and not counted, so equivocators cannot inflate a tally.
 * Thresholds are by count of validators: quorum = floor(2n/3)+1, round skip = floor(n/3)+1.
 */
export class VoteKeeper<P> {
  private readonly rounds = new Map<string, RoundVotes<P>>();
  /** Validators heard from (any vote or proposal), per round: for the round-skip rule. */
  private readonly sendersByRound = new Map<Round, Set<string>>();

  constructor(
    private readonly validators: ReadonlySet<string>,
    readonly quorum: number,
    readonly roundSkip: number,
  ) {
    assert(quorum >= roundSkip && quorum <= validators.size, "thresholds fit the validator set");
  }

  add(vote: CountedVote<P>): VoteAddition<P> {
    assert(this.validators.has(vote.validator), "only validators' votes are counted");
    const votes = this.roundVotes(vote.kind, vote.round);
    const first = votes.byValidator.get(vote.validator);
    if (first !== undefined) return first.valueId === vote.valueId ? { kind: "repeated" } : { kind: "equivocation", first };
    votes.byValidator.set(vote.validator, vote);
    votes.tally.set(vote.valueId, (votes.tally.get(vote.valueId) ?? 0) + 1);
    this.heardFrom(vote.round, vote.validator);
    return { kind: "added" };
  }

  /** Records that a validator sent something (a proposal) in a round, for the round-skip rule. */
  heardFrom(round: Round, validator: string): void {
    let senders = this.sendersByRound.get(round);
    if (senders === undefined) this.sendersByRound.set(round, (senders = new Set()));
    senders.add(validator);
  }

  /** Whether a quorum voted `kind` for `valueId` (null: nil) in `round`. */
  hasQuorumFor(kind: VoteKind, round: Round, valueId: ValueId | null): boolean {
    return (this.rounds.get(key(kind, round))?.tally.get(valueId) ?? 0) >= this.quorum;
  }

  /** Whether a quorum voted `kind` in `round`, for anything. */
  hasQuorumOfAny(kind: VoteKind, round: Round): boolean {
    return (this.rounds.get(key(kind, round))?.byValidator.size ?? 0) >= this.quorum;
  }

  /** The highest round above `round` from which at least roundSkip validators were heard, if any. */
  skipTarget(round: Round): Round | undefined {
    let target: Round | undefined;
    for (const [candidate, senders] of this.sendersByRound) {
      if (candidate > round && senders.size >= this.roundSkip && (target === undefined || candidate > target)) target = candidate;
    }
    return target;
  }

  /** The rounds in which a quorum precommitted some value (not nil): candidates for a decision. */
  roundsWithPrecommitQuorum(): { round: Round; valueId: ValueId }[] {
    const found: { round: Round; valueId: ValueId }[] = [];
    for (const [name, votes] of this.rounds) {
      if (!name.startsWith("precommit/")) continue;
      for (const [valueId, count] of votes.tally) {
        if (valueId !== null && count >= this.quorum) found.push({ round: Number(name.slice("precommit/".length)), valueId });
      }
    }
    return found;
  }

  /** The votes of `kind` for `valueId` in `round`, one per validator, in validator order. */
  votesFor(kind: VoteKind, round: Round, valueId: ValueId | null): CountedVote<P>[] {
    const votes = this.rounds.get(key(kind, round));
    if (votes === undefined) return [];
    return [...votes.byValidator.values()].filter((vote) => vote.valueId === valueId).sort((a, b) => (a.validator < b.validator ? -1 : 1));
  }

  /** Every counted vote of `round`, both kinds: what a lagging peer may lack. */
  votesInRound(round: Round): CountedVote<P>[] {
    return (["prevote", "precommit"] as const).flatMap((kind) => [...(this.rounds.get(key(kind, round))?.byValidator.values() ?? [])]);
  }

  private roundVotes(kind: VoteKind, round: Round): RoundVotes<P> {
    const name = key(kind, round);
    let votes = this.rounds.get(name);
    if (votes === undefined) this.rounds.set(name, (votes = new RoundVotes()));
    return votes;
  }
}

function key(kind: VoteKind, round: Round): string {
  return `${kind}/${round}`;
}
