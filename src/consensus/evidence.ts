import { invalid } from "../errors";
import type { Federation } from "../federation";
import { type Evidence, type SignedProposal, type SignedVote, VoteType } from "../gen/hashfed/v1/batch";
import { verifySignedProposal } from "./signedProposal";
import { verifySignedVote } from "./signedVote";

/** Who equivocated, where: what a piece of evidence proves once verified. */
export interface Equivocation {
  readonly validator: string;
  readonly height: bigint;
  readonly round: number;
  readonly kind: "proposal" | "prevote" | "precommit";
}

export function duplicateVote(first: SignedVote, second: SignedVote): Evidence {
  return { kind: { $case: "duplicateVote", value: { first, second } } };
}

export function duplicateProposal(first: SignedProposal, second: SignedProposal): Evidence {
  return { kind: { $case: "duplicateProposal", value: { first, second } } };
}

/**
 * Checks evidence with the federation file alone: two messages, both validly signed by the same
 * validator, for the same (height, round, kind), saying different things. Throws if it proves nothing.
 */
export function verifyEvidence(federation: Federation, evidence: Evidence): Equivocation {
  const kind = evidence.kind;
  if (kind === undefined) throw invalid("EVIDENCE_MALFORMED", "evidence holds a duplicate vote or a duplicate proposal");
  const { first, second } = kind.value;
  if (first === undefined || second === undefined) throw invalid("EVIDENCE_MALFORMED", "evidence holds two signed messages");
  if (kind.$case === "duplicateVote") {
    const a = verifySignedVote(federation, first as SignedVote).vote;
    const b = verifySignedVote(federation, second as SignedVote).vote;
    if (a.validator !== b.validator || a.height !== b.height || a.round !== b.round || a.type !== b.type) {
      throw invalid("EVIDENCE_UNRELATED", "the two votes are not by one validator for the same height, round and type");
    }
    if (Buffer.from(a.valueId).equals(Buffer.from(b.valueId))) throw invalid("EVIDENCE_NOT_CONFLICTING", "the two votes are for the same value");
    return { validator: a.validator, height: a.height, round: a.round, kind: a.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : "precommit" };
  }
  const a = verifySignedProposal(federation, first as SignedProposal).proposal;
  const b = verifySignedProposal(federation, second as SignedProposal).proposal;
  if (a.proposer !== b.proposer || a.height !== b.height || a.round !== b.round) {
    throw invalid("EVIDENCE_UNRELATED", "the two proposals are not by one proposer for the same height and round");
  }
  if (Buffer.from(a.valueId).equals(Buffer.from(b.valueId)) && a.validRound === b.validRound) {
    throw invalid("EVIDENCE_NOT_CONFLICTING", "the two proposals are the same");
  }
  return { validator: a.proposer, height: a.height, round: a.round, kind: "proposal" };
}
