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

/** A statement just built: its bytes, and the message they encode (so nobody decodes them again). */
export interface BuiltStatement {
  readonly bytes: Buffer;
  readonly statement: Statement;
}

export function encodeAddSignal(context: StatementContext, draft: AddSignalDraft): Buffer {
  return buildAddSignal(context, draft).bytes;
}

export function encodeRetract(context: StatementContext, target: StatementId, reason: RetractReason): Buffer {
  return buildRetract(context, target, reason).bytes;
}

export function buildAddSignal(context: StatementContext, draft: AddSignalDraft): BuiltStatement {
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
  return { bytes: Buffer.from(Statement.encode(statement).finish()), statement };
}

export function buildRetract(context: StatementContext, target: StatementId, reason: RetractReason): BuiltStatement {
  const statement: Statement = { ...context, body: { $case: "retract", value: { target, reason } } };
  return { bytes: Buffer.from(Statement.encode(statement).finish()), statement };
}
