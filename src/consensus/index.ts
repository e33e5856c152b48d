export { cosignedCheckpoint, signPrecommit, verifyCommitCertificate } from "./commitCertificate";
export { signVote, type VerifiedVote, verifySignedVote } from "./signedVote";
