import { HashfedError, invalid } from "../errors";
import type { Signer } from "../crypto/signer";
import { verifyInDomain } from "../crypto/signingDomain";
import { type Federation, isValidator, type Member, memberByName } from "../federation";
import { type SignedVote, Vote, VoteType } from "../gen/hashfed/v1/batch";

export function signVote(signer: Signer, vote: Vote): SignedVote {
  const bytes = Buffer.from(Vote.encode(vote).finish());
  return { vote: bytes, signature: signer.sign("vote", bytes) };
}

/** A vote decoded and checked for shape, federation and validator: its signature is not checked yet. */
export interface ParsedVote {
  readonly vote: Vote;
  readonly validator: Member;
  readonly signed: SignedVote;
}

declare const signatureChecked: unique symbol;

/** A vote whose validator's signature verified: made only by checkVoteSignature. */
export interface VerifiedVote {
  readonly vote: Vote;
  readonly validator: Member;
  readonly [signatureChecked]: true;
}

/** Decodes a signed vote and checks that a validator of this federation signed exactly these bytes. */
export function verifySignedVote(federation: Federation, signed: SignedVote): VerifiedVote {
  return checkVoteSignature(parseSignedVote(federation, signed));
}

/**
 * The checks of verifySignedVote before the signature's: the vote is well formed, for this
 * federation, by one of its validators. Nothing may act on the result but the decision to drop the
 * vote unchecked; checkVoteSignature comes next.
 */
export function parseSignedVote(federation: Federation, signed: SignedVote): ParsedVote {
  let vote: Vote;
  try {
    vote = Vote.decode(signed.vote);
  } catch (error) {
    throw invalid("VOTE_MALFORMED", `vote bytes are not a valid protobuf Vote: ${(error as Error).message}`);
  }
  if (!Buffer.from(Vote.encode(vote).finish()).equals(Buffer.from(signed.vote))) {
    throw invalid("VOTE_NOT_CANONICAL", "vote bytes are not in canonical form");
  }
  if (vote.type !== VoteType.VOTE_TYPE_PREVOTE && vote.type !== VoteType.VOTE_TYPE_PRECOMMIT) {
    throw invalid("VOTE_MALFORMED", "a vote is a prevote or a precommit");
  }
  if (vote.valueId.length !== 0 && vote.valueId.length !== 32) throw invalid("VOTE_MALFORMED", "a vote names a 32-byte batch id, or none for nil");
  if (vote.checkpointSignature.length > 0 && (vote.type !== VoteType.VOTE_TYPE_PRECOMMIT || vote.valueId.length === 0)) {
    throw invalid("VOTE_MALFORMED", "only a precommit for a batch carries a checkpoint signature");
  }
  if (!Buffer.from(vote.federationId).equals(federation.id)) {
    throw invalid("FEDERATION_MISMATCH", `vote by ${vote.validator} is for another federation`);
  }
  const validator = memberByName(federation, vote.validator);
  if (validator === undefined || !isValidator(federation, vote.validator)) {
    throw new HashfedError("forbidden", "NOT_A_VALIDATOR", `${JSON.stringify(vote.validator)} is not a validator of this federation`);
  }
  return { vote, validator, signed };
}

/** The parsed vote, once its validator's signature over exactly its bytes verifies. */
export function checkVoteSignature(parsed: ParsedVote): VerifiedVote {
  const { vote, validator, signed } = parsed;
  if (!verifyInDomain(validator.key, "vote", signed.vote, signed.signature)) {
    throw new HashfedError("unauthenticated", "VOTE_SIGNATURE_INVALID", `the vote's signature does not verify under ${validator.name}'s key`);
  }
  return { vote, validator } as VerifiedVote;
}
