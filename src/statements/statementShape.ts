import { invalid } from "../errors";
import { FEDERATION_ID_BYTES } from "../federation/federationId";
import { COMMITMENT_BYTES } from "../signals/commitment";
import { RetractReason, type Statement } from "../gen/hashfed/v1/statement";
import { STATEMENT_ID_BYTES } from "./statementId";

export const NONCE_BYTES = 16;
export const SUBMITTER_NAME_BYTES_MAX = 253;

/** The reasons a retraction may give: not UNSPECIFIED, and not the decoder's UNRECOGNIZED (-1). */
export const RETRACT_REASONS: ReadonlySet<RetractReason> = new Set([
  RetractReason.RETRACT_REASON_FALSE_POSITIVE,
  RetractReason.RETRACT_REASON_OUT_OF_TAXONOMY,
  RetractReason.RETRACT_REASON_APPEAL_UPHELD,
  RetractReason.RETRACT_REASON_DUPLICATE,
  RetractReason.RETRACT_REASON_OTHER,
]);

/** Checks what can be checked without the federation: sizes, presence, known enum values. */
export function checkStatementShape(statement: Statement): void {
  if (statement.federationId.length !== FEDERATION_ID_BYTES) {
    throw invalid("STATEMENT_MALFORMED", `statement federation_id must be ${FEDERATION_ID_BYTES} bytes, got ${statement.federationId.length}`);
  }
  if (statement.submitter.length === 0 || statement.submitter.length > SUBMITTER_NAME_BYTES_MAX) {
    throw invalid("STATEMENT_MALFORMED", `statement submitter must be 1 to ${SUBMITTER_NAME_BYTES_MAX} characters`);
  }
  if (statement.nonce.length !== NONCE_BYTES) {
    throw invalid("STATEMENT_MALFORMED", `statement nonce must be ${NONCE_BYTES} bytes, got ${statement.nonce.length}`);
  }
  const body = statement.body;
  if (body === undefined) throw invalid("STATEMENT_MALFORMED", "statement has no body: it must be an add_signal or a retract");
  if (body.$case === "addSignal") {
    if (body.value.commitment.length !== COMMITMENT_BYTES) {
      throw invalid("STATEMENT_MALFORMED", `add_signal commitment must be ${COMMITMENT_BYTES} bytes, got ${body.value.commitment.length}`);
    }
    if (body.value.quality > 100) throw invalid("STATEMENT_MALFORMED", `add_signal quality must be 0..100, got ${body.value.quality}`);
    const labels = body.value.labels;
    for (let i = 1; i < labels.length; i++) {
      if (labels[i - 1]! >= labels[i]!) {
        throw invalid("STATEMENT_MALFORMED", "add_signal labels must be sorted and without duplicates");
      }
    }
  } else {
    if (body.value.target.length !== STATEMENT_ID_BYTES) {
      throw invalid("STATEMENT_MALFORMED", `retract target must be a ${STATEMENT_ID_BYTES}-byte statement id, got ${body.value.target.length} bytes`);
    }
    if (!RETRACT_REASONS.has(body.value.reason)) {
      throw invalid("STATEMENT_MALFORMED", `retract reason must be one of false-positive, out-of-taxonomy, appeal-upheld, duplicate, other`);
    }
  }
}
