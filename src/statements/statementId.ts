import { sha256 } from "../crypto/sha256";
import { invalid } from "../errors";

/** SHA-256 of a statement's exact bytes: the name of a statement everywhere in hashfed. */
export type StatementId = Buffer & { readonly __brand: "StatementId" };

export const STATEMENT_ID_BYTES = 32;

export function statementIdOf(statementBytes: Uint8Array): StatementId {
  return sha256(statementBytes) as StatementId;
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

/**
 * A compact string form for Map keys: the 32 bytes as 16 UTF-16 code units, two bytes each. Made in
 * JavaScript, it costs about half of toString("latin1"), whose call into C++ took 3 % of a loaded
 * node's event loop (a statement's id is made a key several times at every node). Anything but 32
 * bytes gets a hex form of odd length, which no id's key has. A key may hold lone surrogates: it
 * is for Maps and Sets only, never to be logged, encoded or stored (UTF-8 would merge distinct ids).
 */
export function statementIdKey(id: Uint8Array): string {
  if (id.length !== STATEMENT_ID_BYTES) return `x${Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("hex")}`;
  return String.fromCharCode(
    (id[0]! << 8) | id[1]!,
    (id[2]! << 8) | id[3]!,
    (id[4]! << 8) | id[5]!,
    (id[6]! << 8) | id[7]!,
    (id[8]! << 8) | id[9]!,
    (id[10]! << 8) | id[11]!,
    (id[12]! << 8) | id[13]!,
    (id[14]! << 8) | id[15]!,
    (id[16]! << 8) | id[17]!,
    (id[18]! << 8) | id[19]!,
    (id[20]! << 8) | id[21]!,
    (id[22]! << 8) | id[23]!,
    (id[24]! << 8) | id[25]!,
    (id[26]! << 8) | id[27]!,
    (id[28]! << 8) | id[29]!,
    (id[30]! << 8) | id[31]!,
  );
}
