import { type RetractReason, Statement } from "../gen/hashfed/v1/statement";
import { commitment, type SignalTypeName } from "../signals";
import type { StatementId } from "./statementId";

/** What the shell supplies to a new statement: identity, its clock reading and fresh randomness. */
export interface StatementContext {
  readonly federationId: Buffer;
  readonly submitter: string;
  readonly createdAtMs: bigint;
  /** 16 random bytes. */
  readonly nonce: Buffer;
}

export interface AddSignalDraft {
  readonly signalType: SignalTypeName;
  /** The signal's raw bytes. */
  readonly value: Buffer;
  readonly labels: readonly string[];
  readonly taxonomyVersion: number;
  readonly quality: number;
  /** 16 random bytes: the commitment hides the value from everyone without the reveal. */
  readonly salt: Buffer;
}

export function encodeAddSignal(context: StatementContext, draft: AddSignalDraft): Buffer {
  const statement: Statement = {
    ...context,
    body: {
      $case: "addSignal",
      value: {
        signalType: draft.signalType,
        commitment: commitment(draft.signalType, draft.salt, draft.value),
        labels: [...draft.labels].sort(),
        taxonomyVersion: draft.taxonomyVersion,
        quality: draft.signalType === "pdq" ? draft.quality : 0,
      },
    },
  };
  return Buffer.from(Statement.encode(statement).finish());
}

export function encodeRetract(context: StatementContext, target: StatementId, reason: RetractReason): Buffer {
  const statement: Statement = { ...context, body: { $case: "retract", value: { target, reason } } };
  return Buffer.from(Statement.encode(statement).finish());
}
