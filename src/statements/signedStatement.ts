import { invalid } from "../errors";
import { LogEntry, Statement } from "../gen/hashfed/v1/statement";
import type { Signer } from "../crypto/signer";
import { SIGNATURE_BYTES } from "../crypto/ed25519";
import { decodeCanonicalLogEntry, decodeCanonicalStatement, encodeLogEntry } from "./canonicalStatement";
import { type StatementId, statementIdKey, statementIdOf } from "./statementId";
import { checkStatementShape } from "./statementShape";

/**
 * A statement as hashfed handles it after parsing at the edge: its exact bytes, their id, the
 * signature and the decoded form. Parsing checks shape only; who signed it and whether it is
 * allowed are checked by verifyStatement and the log's rules.
 */
export interface SignedStatement {
  readonly id: StatementId;
  readonly bytes: Buffer;
  readonly signature: Buffer;
  readonly statement: Statement;
  /** The encoded LogEntry: the Merkle leaf. */
  readonly entryBytes: Buffer;
  /** statementIdKey(id), made once: a node keys a statement in its maps a dozen times on its way to the log. */
  readonly key: string;
}

/**
 * A SignedStatement whose id key is made on first use (an audit's replay never asks for it). The key
 * is a getter: a copy made by spreading a statement has none, so statements come from the parse
 * functions below only.
 */
class ParsedStatement implements SignedStatement {
  #key: string | undefined;

  constructor(
    readonly id: StatementId,
    readonly bytes: Buffer,
    readonly signature: Buffer,
    readonly statement: Statement,
    readonly entryBytes: Buffer,
  ) {}

  get key(): string {
    return (this.#key ??= statementIdKey(this.id));
  }
}

/**
 * Statement bytes must be exactly what the generated encoder writes: one meaning, one byte string
 * (see decodeCanonicalStatement). Bytes fields of the result are views into `bytes`.
 */
export function decodeStatement(bytes: Uint8Array): Statement {
  const statement = decodeCanonicalStatement(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  checkStatementShape(statement);
  return statement;
}

/** `idOfBytes`, if given, is statementIdOf(statementBytes), already computed by the caller. */
export function parseSignedStatement(statementBytes: Uint8Array, signature: Uint8Array, idOfBytes?: StatementId): SignedStatement {
  if (signature.length !== SIGNATURE_BYTES) {
    throw invalid("SIGNATURE_MALFORMED", `a statement signature is ${SIGNATURE_BYTES} bytes, got ${signature.length}`);
  }
  // Copied into the leaf: views into a peer's message would keep all of that message alive.
  const { entryBytes, statement: bytes, signature: sig } = encodeLogEntry(statementBytes, signature);
  return new ParsedStatement(idOfBytes ?? statementIdOf(bytes), bytes, sig, decodeStatement(bytes), entryBytes);
}

/** Parses a Merkle leaf (an encoded LogEntry), as stored or as served. */
export function parseLogEntryBytes(entryBytes: Uint8Array): SignedStatement {
  let entry: LogEntry;
  try {
    entry = LogEntry.decode(entryBytes);
  } catch (error) {
    throw invalid("ENTRY_MALFORMED", `log entry bytes are not a valid protobuf LogEntry: ${(error as Error).message}`);
  }
  return parseSignedStatement(entry.statement, entry.signature);
}

/**
 * Parses a Merkle leaf exactly as served: its bytes must be the canonical LogEntry encoding (the
 * statement, then a 64-byte signature, nothing else), since that is what the tree hashes. The bytes
 * are used as they are, viewed rather than copied or encoded again, which is what lets an auditor
 * parse every leaf of a long log quickly; the statement is still decoded strictly (decodeStatement).
 */
export function parseLogEntryLeaf(leaf: Buffer): SignedStatement {
  const entry = decodeCanonicalLogEntry(leaf);
  if (entry === undefined || entry.signature.length !== SIGNATURE_BYTES) {
    throw invalid("ENTRY_MALFORMED", "log entry bytes are not a canonical LogEntry: the statement, then a 64-byte signature, nothing else");
  }
  const { statement: bytes, signature } = entry;
  return new ParsedStatement(statementIdOf(bytes), bytes, signature, decodeStatement(bytes), leaf);
}

/**
 * A statement whose bytes this node encoded itself, or stored after checking them: decoded without
 * the canonical-form and shape checks, which would cost more than the rest of a start-up replay.
 */
export function trustedSignedStatement(bytes: Buffer, signature: Buffer, entryBytes?: Buffer, statement?: Statement): SignedStatement {
  return new ParsedStatement(statementIdOf(bytes), bytes, signature, statement ?? Statement.decode(bytes), entryBytes ?? encodeLogEntry(bytes, signature).entryBytes);
}

/** Parses a leaf this node's own store wrote (see trustedSignedStatement). */
export function parseStoredLogEntry(entryBytes: Buffer): SignedStatement {
  const entry = LogEntry.decode(entryBytes);
  return trustedSignedStatement(Buffer.from(entry.statement), Buffer.from(entry.signature), entryBytes);
}

export function signStatement(signer: Signer, statementBytes: Uint8Array): SignedStatement {
  return parseSignedStatement(statementBytes, signer.sign("statement", statementBytes));
}
