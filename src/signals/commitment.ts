import { assert } from "../assert";
import { sha256 } from "../crypto/sha256";
import { invalid } from "../errors";
import { SignalTypeName, signalType } from "./signalType";

/**
 * Commitments keep hash values out of the log. A statement carries
 *   SHA-256("hashfed/v1/commit\n" || salt[16] || type || "\n" || value)
 * and the reveal (salt, value) travels beside it to members only. The salt makes the commitment
 * hiding: without it anyone could test a guessed MD5 of a known file against the log. The encoding
 * is unambiguous because the salt has a fixed length, the type name never contains "\n", and the
 * value runs to the end.
 */
export const SALT_BYTES = 16;
export const COMMITMENT_BYTES = 32;
const COMMIT_DOMAIN = Buffer.from("hashfed/v1/commit\n", "utf8");
const TYPE_LINES: Record<SignalTypeName, Buffer> = {
  pdq: Buffer.from("pdq\n"),
  md5: Buffer.from("md5\n"),
  sha256: Buffer.from("sha256\n"),
};

/** Requires a salt of SALT_BYTES and a value of the type's length: callers check input first (checkReveal does). */
export function commitment(type: SignalTypeName, salt: Uint8Array, value: Uint8Array): Buffer {
  const valueBytes = signalType(type).valueBytes;
  assert(salt.length === SALT_BYTES, `a salt is ${SALT_BYTES} bytes, got ${salt.length}`);
  assert(value.length === valueBytes, `a ${type} value is ${valueBytes} bytes, got ${value.length}`);
  const typeLine = TYPE_LINES[type];
  const input = Buffer.allocUnsafe(COMMIT_DOMAIN.length + SALT_BYTES + typeLine.length + value.length);
  COMMIT_DOMAIN.copy(input, 0);
  input.set(salt, COMMIT_DOMAIN.length);
  typeLine.copy(input, COMMIT_DOMAIN.length + SALT_BYTES);
  input.set(value, COMMIT_DOMAIN.length + SALT_BYTES + typeLine.length);
  return sha256(input);
}

/**
 * Checks that a reveal (salt, value) opens the commitment `expected` of a statement of type `type`.
 * Every input may come from a peer or a client, so each length is checked with a precise error
 * before the hash is computed.
 */
export function checkReveal(type: SignalTypeName, expected: Uint8Array, salt: Uint8Array, value: Uint8Array): void {
  if (expected.length !== COMMITMENT_BYTES) {
    throw invalid("COMMITMENT_BAD_LENGTH", `a commitment is ${COMMITMENT_BYTES} bytes, got ${expected.length}`);
  }
  if (salt.length !== SALT_BYTES) {
    throw invalid("REVEAL_SALT_BAD_LENGTH", `the salt of a reveal is ${SALT_BYTES} bytes, got ${salt.length}`);
  }
  const valueBytes = signalType(type).valueBytes;
  if (value.length !== valueBytes) {
    throw invalid("REVEAL_VALUE_BAD_LENGTH", `the value of a reveal is ${valueBytes} bytes for ${type}, got ${value.length}`);
  }
  if (!commitment(type, salt, value).equals(expected)) {
    throw invalid(
      "REVEAL_MISMATCH",
      `the reveal does not open the statement's commitment: SHA-256 of the ${type} salt and value differs from the commitment`,
    );
  }
}
