import { hash } from "node:crypto";
import { invalid } from "../errors";

/** SHA-256 of a statement's exact bytes: the name of a statement everywhere in hashfed. */
export type StatementId = Buffer & { readonly __brand: "StatementId" };

export const STATEMENT_ID_BYTES = 32;

export function statementIdOf(statementBytes: Uint8Array): StatementId {
  // The one-shot hash costs about half of createHash().update().digest() on statement-sized input.
  return hash("sha256", statementBytes, "buffer") as StatementId;
}

/** Parses an id from the wire (raw bytes) or from a person (64 hex characters). */
export function parseStatementId(input: Uint8Array | string, field = "statement id"): StatementId {
  if (typeof input === "string") {
    if (!/^[0-9a-fA-F]{64}$/.test(input)) {
      throw invalid("STATEMENT_ID_MALFORMED", `${field} must be 64 hex characters, got ${JSON.stringify(input.slice(0, 80))}`);
    }
    return Buffer.from(input, "hex") as StatementId;
  }
  if (input.length !== STATEMENT_ID_BYTES) {
    throw invalid("STATEMENT_ID_MALFORMED", `${field} must be ${STATEMENT_ID_BYTES} bytes, got ${input.length}`);
  }
  return Buffer.from(input) as StatementId;
}

/** A compact string form for Map keys (one char per byte). */
export function statementIdKey(id: Uint8Array): string {
  // Ids are Buffers almost everywhere: a view is made only for a plain Uint8Array.
  return (id instanceof Buffer ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength)).toString("latin1");
}
