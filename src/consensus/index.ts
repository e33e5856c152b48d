export { checkpointSignatureVerifies, cosignedCheckpoint, signPrecommit, verifyCertificateVotes, verifyCommitCertificate } from "./commitCertificate";
export { evidenceFromConflictingCertificates } from "./conflictingCertificates";
export { duplicateProposal, duplicateVote, type Equivocation, verifyEvidence } from "./evidence";
export { proposerOf } from "./proposer";
export { signProposal, type VerifiedProposal, verifySignedProposal } from "./signedProposal";
export { checkVoteSignature, type ParsedVote, parseSignedVote, signVote, type VerifiedVote, verifySignedVote } from "./signedVote";
export {
  type ConsensusConfig,
  type ConsensusInput,
  type ConsensusOutput,
  type ProposalInput,
  type RoundState,
  Tendermint,
} from "./tendermint";
export { type Height, type Round, Step, type TimeoutConfig, type TimeoutKind, timeoutMs, type ValueId, type VoteKind } from "./types";
export { type CountedVote, VoteKeeper, VOTES_PER_VALIDATOR_MAX } from "./voteKeeper";
