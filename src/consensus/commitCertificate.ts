import { HashfedError, invalid } from "../errors";
import type { Signer } from "../crypto/signer";
import { formatNote, noteSignatureBytes, noteSignatureFromBytes, verifyNoteSignatures } from "../crypto/signedNote";
import { type Federation, type Member, quorumSize } from "../federation";
import { type CommitCertificate, type SignedVote, VoteType } from "../gen/hashfed/v1/batch";
import type { AssembledBatch } from "../batch";
import { signVote, type VerifiedVote, verifySignedVote } from "./signedVote";

/**
 * A precommit for a batch. It carries the validator's signed-note signature over the checkpoint the
 * batch produces, so that a quorum of precommits is at once the commit certificate and the
 * quorum-cosigned checkpoint.
 */
export function signPrecommit(federation: Federation, signer: Signer, batch: AssembledBatch, round: number): SignedVote {
  return signVote(signer, {
    federationId: federation.id,
    type: VoteType.VOTE_TYPE_PRECOMMIT,
    height: batch.header.height,
    round,
    valueId: batch.id,
    validator: signer.name,
    checkpointSignature: noteSignatureBytes(signer.signNote(batch.checkpointBody)),
  });
}

/**
 * Checks that a certificate commits `batch`: precommits from at least a quorum of validators, one
 * each, each for this height, round and batch id, each with a valid vote signature and a
 * valid signature over the batch's checkpoint. Returns the votes in validator-name order.
 */
export function verifyCommitCertificate(federation: Federation, certificate: CommitCertificate, batch: AssembledBatch): VerifiedVote[] {
  if (certificate.height !== batch.header.height || !Buffer.from(certificate.valueId).equals(batch.id)) {
    throw invalid("CERTIFICATE_MISMATCH", `the certificate is for height ${certificate.height}, not for batch ${batch.id.toString("hex")} at height ${batch.header.height}`);
  }
  const votes = verifyCertificateVotes(federation, certificate);
  for (const { vote, validator } of votes) {
    if (!checkpointSignatureVerifies(validator, vote.checkpointSignature, batch.checkpointBody)) {
      throw new HashfedError(
        "unauthenticated",
        "CHECKPOINT_SIGNATURE_INVALID",
        `${validator.name}'s precommit carries no valid signature by its key over the checkpoint of batch ${batch.id.toString("hex")}`,
      );
    }
  }
  return votes;
}

/**
 * That a quorum of validators precommitted the certificate's value at its height and round: one
 * precommit each, each signature valid. Without the batch, its checkpoint signatures are not
 * checked: enough to tell a fork (two such certificates at one height) from a peer's made-up one.
 * Returns the votes in validator-name order.
 */
export function verifyCertificateVotes(federation: Federation, certificate: CommitCertificate): VerifiedVote[] {
  // One precommit per validator: copies had counted once each, but were checked, kept and served
  // (and made a sync answer look as full as a message).
  const validatorCount = federation.validators.length;
  if (certificate.precommits.length > validatorCount) {
    throw invalid("CERTIFICATE_MALFORMED", `the certificate holds ${certificate.precommits.length} precommits; there are ${validatorCount} validators`);
  }
  const byValidator = new Map<string, VerifiedVote>();
  for (const signed of certificate.precommits) {
    const verified = verifySignedVote(federation, signed);
    const { vote, validator } = verified;
    if (byValidator.has(validator.name)) throw invalid("CERTIFICATE_MALFORMED", `the certificate holds two precommits by ${validator.name}`);
    if (vote.type !== VoteType.VOTE_TYPE_PRECOMMIT || vote.height !== certificate.height || vote.round !== certificate.round || !Buffer.from(vote.valueId).equals(Buffer.from(certificate.valueId))) {
      throw invalid("CERTIFICATE_MISMATCH", `the certificate holds a vote by ${validator.name} that is not a precommit for this height, round and batch`);
    }
    byValidator.set(validator.name, verified);
  }
  const quorum = quorumSize(validatorCount);
  if (byValidator.size < quorum) {
    throw new HashfedError(
      "unauthenticated",
      "CERTIFICATE_SHORT_OF_QUORUM",
      `the certificate holds precommits from ${byValidator.size} distinct validators; a quorum of ${federation.validators.length} is ${quorum}`,
    );
  }
  return [...byValidator.values()].sort((a, b) => (a.validator.name < b.validator.name ? -1 : 1));
}

/**
 * Whether a precommit's checkpoint signature is its validator's over `checkpointBody`. A malformed
 * signature throws (invalid); a well-formed one that does not verify returns false.
 */
export function checkpointSignatureVerifies(validator: Member, signatureBytes: Uint8Array, checkpointBody: string): boolean {
  const signature = noteSignatureFromBytes(validator.name, signatureBytes);
  try {
    return verifyNoteSignatures({ text: checkpointBody, signatures: [signature] }, [validator.key]).length === 1;
  } catch (error) {
    if (error instanceof HashfedError && error.kind === "unauthenticated") return false;
    throw error;
  }
}

/** The cosigned checkpoint a certificate yields: the checkpoint body signed by every precommitter. */
export function cosignedCheckpoint(votes: readonly VerifiedVote[], checkpointBody: string): string {
  const signatures = votes.map(({ vote, validator }) => noteSignatureFromBytes(validator.name, vote.checkpointSignature));
  return formatNote({ text: checkpointBody, signatures });
}
