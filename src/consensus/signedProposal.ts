import { HashfedError, invalid } from "../errors";
import type { Signer } from "../crypto/signer";
import { verifyInDomain } from "../crypto/signingDomain";
import { type Federation, isValidator, type Member, memberByName } from "../federation";
import { Proposal, type SignedProposal } from "../gen/hashfed/v1/batch";

export function signProposal(signer: Signer, proposal: Proposal): SignedProposal {
  const bytes = Buffer.from(Proposal.encode(proposal).finish());
  return { proposal: bytes, signature: signer.sign("proposal", bytes) };
}

export interface VerifiedProposal {
  readonly proposal: Proposal;
  readonly proposer: Member;
}

/** Decodes a signed proposal and checks that a validator of this federation signed exactly these bytes. */
export function verifySignedProposal(federation: Federation, signed: SignedProposal): VerifiedProposal {
  let proposal: Proposal;
  try {
    proposal = Proposal.decode(signed.proposal);
  } catch (error) {
    throw invalid("PROPOSAL_MALFORMED", `proposal bytes are not a valid protobuf Proposal: ${(error as Error).message}`);
  }
  if (!Buffer.from(Proposal.encode(proposal).finish()).equals(Buffer.from(signed.proposal))) {
    throw invalid("PROPOSAL_NOT_CANONICAL", "proposal bytes are not in canonical form");
  }
  if (!Buffer.from(proposal.federationId).equals(federation.id)) {
    throw invalid("FEDERATION_MISMATCH", `proposal by ${proposal.proposer} is for another federation`);
  }
  if (proposal.validRound < -1 || proposal.validRound >= proposal.round) {
    throw invalid("PROPOSAL_MALFORMED", `a proposal's valid round is -1 or below its round ${proposal.round}, got ${proposal.validRound}`);
  }
  if (proposal.valueId.length !== 32) throw invalid("PROPOSAL_MALFORMED", "a proposal names a 32-byte batch id");
  const proposer = memberByName(federation, proposal.proposer);
  if (proposer === undefined || !isValidator(federation, proposal.proposer)) {
    throw new HashfedError("forbidden", "NOT_A_VALIDATOR", `${JSON.stringify(proposal.proposer)} is not a validator of this federation`);
  }
  if (!verifyInDomain(proposer.key, "proposal", signed.proposal, signed.signature)) {
    throw new HashfedError("unauthenticated", "PROPOSAL_SIGNATURE_INVALID", `the proposal's signature does not verify under ${proposer.name}'s key`);
  }
  return { proposal, proposer };
}
