import { locating } from "../errors";
import { NOTE_BYTES_MAX } from "../crypto";
import type { Federation } from "../federation";
import { verifyCosignedCheckpoint } from "./cosignedCheckpoint";
import { DocumentFields } from "./documentFields";
import type { ObservedCheckpoint } from "./observedCheckpoint";

/**
 * What an auditor remembers between runs: the last checkpoint it accepted, the one every later
 * checkpoint must be consistent with. A monitor that forgets proves nothing: without it, a node
 * could show each run a different history (rekor-monitor#41). The checkpoint is kept exactly as
 * served and verified again whenever the state is read, so a state file edited by hand cannot make
 * the auditor trust a checkpoint no quorum signed.
 */
export const AUDIT_STATE_FORMAT = "hashfed-audit-state/v1";

const CODE = "AUDIT_STATE_MALFORMED";

export interface AuditState {
  readonly federationId: Buffer;
  /** Undefined until the first checkpoint is accepted (trust on first use). */
  readonly accepted?: ObservedCheckpoint;
}

export function formatAuditState(state: AuditState): string {
  const accepted = state.accepted;
  const document = {
    format: AUDIT_STATE_FORMAT,
    federationId: state.federationId.toString("hex"),
    ...(accepted === undefined ? {} : {
      accepted: { checkpoint: accepted.verified.note, source: accepted.source, acceptedAt: accepted.observedAt },
    }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Parses a state file and verifies its checkpoint against `federation`; refuses a state kept for another federation. */
export function parseAuditState(text: string, federation: Federation, file: string): AuditState {
  const fields = new DocumentFields(`the audit state ${file}`, CODE);
  const top = fields.object(fields.parse(text, NOTE_BYTES_MAX + 4096), "", ["format", "federationId"], ["accepted"]);
  if (top.format !== AUDIT_STATE_FORMAT) throw fields.error("format", `must be ${JSON.stringify(AUDIT_STATE_FORMAT)}`);
  const federationId = fields.hex(top.federationId, "federationId", federation.id.length);
  if (!federationId.equals(federation.id)) {
    throw fields.error("federationId", `is ${federationId.toString("hex")}, but the federation file's id is ${federation.id.toString("hex")}: this state belongs to another federation (or another version of its file); use another state folder`);
  }
  if (top.accepted === undefined) return { federationId };
  const accepted = fields.object(top.accepted, "accepted", ["checkpoint", "source", "acceptedAt"]);
  const note = fields.string(accepted.checkpoint, "accepted.checkpoint");
  const verified = locating(`the audit state ${file}, accepted.checkpoint`, () => verifyCosignedCheckpoint(federation, note));
  return {
    federationId,
    accepted: { verified, source: fields.string(accepted.source, "accepted.source"), observedAt: fields.string(accepted.acceptedAt, "accepted.acceptedAt") },
  };
}
