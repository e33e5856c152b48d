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
  /** Nothing new: the same vote again, or a spammer's vote past the bound below. */
  | { readonly kind: "repeated" }
  /** The validator already voted differently for this (round, kind); `first` is its first vote. */
  | { readonly kind: "equivocation"; readonly first: CountedVote<P> };

/**
 * How many different votes of one validator count per (round, kind) for values nobody else voted
 * for: the bound keeps a spamming equivocator from growing memory without bound.
 */
export const VOTES_PER_VALIDATOR_MAX = 4;

/** The votes of one kind in one round: each validator's votes in arrival order, and who voted for each value. */
class RoundVotes<P> {
  readonly byValidator = new Map<string, CountedVote<P>[]>();
  readonly byValue = new Map<ValueId | null, Map<string, CountedVote<P>>>();
}

/**
 * Counts the votes of one height, separately from the round state machine (as Malachite's
 * core-votekeeper does). A validator counts once per (round, kind, value). A validator that votes
 * for two values in one (round, kind) equivocates: that is reported as evidence, and both votes
 * count, each for its own value. Counting only the first would let an equivocator hide a polka
 * from the nodes that heard its other vote first, so that some correct nodes lock on a value the
 * others can never accept again (reference/consensus.md §1.4 erratum 6, the hidden lock). It is
 * safe: the paper's thresholds count distinct senders per value, and a Byzantine sender could
 * have sent each correct node either vote anyway. "Votes of any kind" count each validator once.
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
    const earlier = votes.byValidator.get(vote.validator) ?? [];
    if (earlier.some((counted) => counted.valueId === vote.valueId)) return { kind: "repeated" };
    // Past the bound a vote counts only for a value another validator voted for, so a spammer
    // cannot grow memory or push out the vote that completes a real polka. Dropped otherwise:
    // the equivocation is on record already.
    if (earlier.length >= VOTES_PER_VALIDATOR_MAX && (votes.byValue.get(vote.valueId)?.size ?? 0) === 0) return { kind: "repeated" };
    votes.byValidator.set(vote.validator, [...earlier, vote]);
    let voters = votes.byValue.get(vote.valueId);
    if (voters === undefined) votes.byValue.set(vote.valueId, (voters = new Map()));
    voters.set(vote.validator, vote);
    this.heardFrom(vote.round, vote.validator);
    return earlier.length === 0 ? { kind: "added" } : { kind: "equivocation", first: earlier[0] };
  }

  /** Records that a validator sent something (a proposal) in a round, for the round-skip rule. */
  heardFrom(round: Round, validator: string): void {
    let senders = this.sendersByRound.get(round);
    if (senders === undefined) this.sendersByRound.set(round, (senders = new Set()));
    senders.add(validator);
  }

  /** Whether a quorum voted `kind` for `valueId` (null: nil) in `round`. */
  hasQuorumFor(kind: VoteKind, round: Round, valueId: ValueId | null): boolean {
    return (this.rounds.get(key(kind, round))?.byValue.get(valueId)?.size ?? 0) >= this.quorum;
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
      for (const [valueId, voters] of votes.byValue) {
        if (valueId !== null && voters.size >= this.quorum) found.push({ round: Number(name.slice("precommit/".length)), valueId });
      }
    }
    return found;
  }

  /** The votes of `kind` for `valueId` in `round`, one per validator, in validator order. */
  votesFor(kind: VoteKind, round: Round, valueId: ValueId | null): CountedVote<P>[] {
    const voters = this.rounds.get(key(kind, round))?.byValue.get(valueId);
    if (voters === undefined) return [];
    return [...voters.values()].sort((a, b) => (a.validator < b.validator ? -1 : 1));
  }

  /** Every counted vote of `round`, both kinds: what a lagging peer may lack. */
  votesInRound(round: Round): CountedVote<P>[] {
    return (["prevote", "precommit"] as const).flatMap((kind) => [...(this.rounds.get(key(kind, round))?.byValidator.values() ?? [])].flat());
  }

  /** Every counted vote of one validator at this height, all rounds and kinds. */
  votesBy(validator: string): CountedVote<P>[] {
    return [...this.rounds.values()].flatMap((votes) => votes.byValidator.get(validator) ?? []);
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
