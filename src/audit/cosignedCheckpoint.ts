import { HashfedError, invalid } from "../errors";
import { parseNote, verifyNoteSignatures, type VerifierKey } from "../crypto";
import { type Federation, quorumSize } from "../federation";
import { type Checkpoint, parseCheckpoint } from "../log/checkpoint";

export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The validators whose signatures verified, in name order. */
  readonly signers: readonly string[];
  /** The note exactly as given. */
  readonly note: string;
}

/**
 * Checks a checkpoint as a reader must before trusting it: a C2SP signed note whose body is a
 * checkpoint of this federation's origin, carrying valid signatures from at least a quorum of
 * distinct validators. Signatures by unknown keys are ignored (the signed-note rule); a bad
 * signature by a known key rejects the note.
 */
export function verifyCosignedCheckpoint(federation: Federation, note: string): VerifiedCheckpoint {
  const parsed = parseNote(note);
  const checkpoint = parseCheckpoint(parsed.text);
  if (checkpoint.origin !== federation.origin) {
    throw invalid("CHECKPOINT_OTHER_ORIGIN", `the checkpoint is for origin ${JSON.stringify(checkpoint.origin)}, the federation's is ${JSON.stringify(federation.origin)}`);
  }
  const validatorKeys: VerifierKey[] = federation.validators.map((member) => member.key);
  const signers = [...new Set(verifyNoteSignatures(parsed, validatorKeys).map((key) => key.name))].sort();
  const quorum = quorumSize(federation.validators.length);
  if (signers.length < quorum) {
    throw new HashfedError(
      "unauthenticated",
      "CHECKPOINT_SHORT_OF_QUORUM",
      `the checkpoint carries valid signatures from ${signers.length} of ${federation.validators.length} validators (${signers.join(", ") || "none"}); a quorum is ${quorum}`,
    );
  }
  return { checkpoint, signers, note };
}
