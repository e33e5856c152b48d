export { type AddSignalDraft, buildAddSignal, buildRetract, type BuiltStatement, encodeAddSignal, encodeRetract, type StatementContext } from "./build";
export { encodeReveal } from "./canonicalStatement";
export { checkStatementReveal, checkStatementRules, signatureInvalid, verifyStatementSignature } from "./checkStatement";
export {
  decodeStatement,
  parseLogEntryBytes,
  parseLogEntryLeaf,
  parseSignedStatement,
  parseStoredLogEntry,
  type SignedStatement,
  signStatement,
  trustedSignedStatement,
} from "./signedStatement";
export { NONCE_BYTES, RETRACT_REASONS } from "./statementShape";
export { parseStatementId, STATEMENT_ID_BYTES, type StatementId, statementIdKey, statementIdOf } from "./statementId";
