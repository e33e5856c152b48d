import { invalid } from "../errors";
import { type AddSignal, type Retract, type Reveal, Statement } from "../gen/hashfed/v1/statement";

/**
 * Decodes statement bytes that must be canonical: exactly the bytes the generated encoder writes for
 * the statement they decode to. That means every field in field-number order and at most once
 * (labels may repeat, in place), no field holding its default value, the shortest varints, strings
 * in valid UTF-8, no unknown fields, nothing after the last field. One pass, with no re-encoding and
 * no copies: bytes fields are views into `bytes`. An auditor decodes every statement of the log, and
 * decoding with the generated code, encoding again and comparing was a quarter of its main thread.
 *
 * Bytes that are not a protobuf Statement at all (the generated decoder refuses them) are
 * STATEMENT_MALFORMED; any other departure is STATEMENT_NOT_CANONICAL, naming the field. The shape
 * (sizes, presence) is checked elsewhere.
 */
export function decodeCanonicalStatement(bytes: Buffer): Statement {
  try {
    return decodeFields(bytes);
  } catch (error) {
    if (!(error instanceof NotCanonical)) throw error;
    try {
      Statement.decode(bytes);
    } catch (decodeError) {
      throw invalid("STATEMENT_MALFORMED", `statement bytes are not a valid protobuf Statement: ${(decodeError as Error).message}`);
    }
    throw invalid("STATEMENT_NOT_CANONICAL", `statement bytes are not in canonical form (fields in order, defaults omitted, no unknown fields): ${error.message}`);
  }
}

function decodeFields(bytes: Buffer): Statement {
  const reader = new CanonicalReader(bytes);
  const statement: Statement = { federationId: NO_BYTES, submitter: "", createdAtMs: 0n, nonce: NO_BYTES, body: undefined };
  if (reader.next(FEDERATION_ID)) statement.federationId = reader.bytes("federation_id");
  if (reader.next(SUBMITTER)) statement.submitter = reader.string("submitter", false);
  if (reader.next(CREATED_AT_MS)) statement.createdAtMs = reader.uint64("created_at_ms");
  if (reader.next(NONCE)) statement.nonce = reader.bytes("nonce");
  if (reader.next(ADD_SIGNAL)) {
    const end = reader.enter();
    statement.body = { $case: "addSignal", value: decodeAddSignal(reader) };
    reader.leave(end, "add_signal");
  } else if (reader.next(RETRACT)) {
    const end = reader.enter();
    statement.body = { $case: "retract", value: decodeRetract(reader) };
    reader.leave(end, "retract");
  }
  reader.expectEnd("statement");
  return statement;
}

/**
 * A Merkle leaf in the canonical LogEntry encoding, the bytes the tree hashes: the statement, then
 * the signature, neither empty, nothing else; both as views into `leaf`. Undefined for any other bytes.
 */
export function decodeCanonicalLogEntry(leaf: Buffer): { statement: Buffer; signature: Buffer } | undefined {
  const reader = new CanonicalReader(leaf);
  try {
    if (!reader.next(ENTRY_STATEMENT)) return undefined;
    const statement = reader.bytes("statement");
    if (!reader.next(ENTRY_SIGNATURE)) return undefined;
    const signature = reader.bytes("signature");
    reader.expectEnd("log entry");
    return { statement, signature };
  } catch (error) {
    if (error instanceof NotCanonical) return undefined;
    throw error;
  }
}

/**
 * The LogEntry of a statement and its signature, as the generated encoder writes it (the Merkle
 * leaf), written directly into one buffer instead of through the encoder: every statement a node
 * receives needs its leaf, and the encoder was two fifths of parsing one. The statement and
 * signature returned are views into the leaf rather than copies of their own.
 */
export function encodeLogEntry(statement: Uint8Array, signature: Uint8Array): { entryBytes: Buffer; statement: Buffer; signature: Buffer } {
  const statementStart = fieldHeaderSize(statement);
  const signatureStart = statementStart + statement.length + fieldHeaderSize(signature);
  const entryBytes = Buffer.allocUnsafe(signatureStart + signature.length);
  writeBytesField(entryBytes, statementStart + statement.length, ENTRY_SIGNATURE, signature);
  writeBytesField(entryBytes, 0, ENTRY_STATEMENT, statement);
  return { entryBytes, statement: entryBytes.subarray(statementStart, statementStart + statement.length), signature: entryBytes.subarray(signatureStart) };
}

/**
 * A Reveal as the generated encoder writes it, written directly into one buffer: every node encodes
 * the reveal of every entry of every batch it checks (for the header's digest and its store), and
 * the generated encoder's writer cost more than the rest of assembling the batch.
 */
export function encodeReveal(reveal: Reveal): Buffer {
  const saltSize = fieldHeaderSize(reveal.salt) + reveal.salt.length;
  const encoded = Buffer.allocUnsafe(saltSize + fieldHeaderSize(reveal.value) + reveal.value.length);
  writeBytesField(encoded, 0, REVEAL_SALT, reveal.salt);
  writeBytesField(encoded, saltSize, REVEAL_VALUE, reveal.value);
  return encoded;
}

/** The tag and length of a bytes field; none for an empty one, which proto3 does not write. */
function fieldHeaderSize(value: Uint8Array): number {
  if (value.length === 0) return 0;
  let size = 2;
  for (let rest = value.length; rest >= 0x80; rest >>>= 7) size++;
  return size;
}

function writeBytesField(target: Buffer, offset: number, tag: number, value: Uint8Array): void {
  if (value.length === 0) return;
  target[offset++] = tag;
  let rest = value.length;
  for (; rest >= 0x80; rest >>>= 7) target[offset++] = (rest & 0x7f) | 0x80;
  target[offset++] = rest;
  target.set(value, offset);
}

function decodeAddSignal(reader: CanonicalReader): AddSignal {
  const addSignal: AddSignal = { signalType: "", commitment: NO_BYTES, labels: [], taxonomyVersion: 0, quality: 0 };
  if (reader.next(SIGNAL_TYPE)) addSignal.signalType = reader.string("add_signal.signal_type", false);
  if (reader.next(COMMITMENT)) addSignal.commitment = reader.bytes("add_signal.commitment");
  while (reader.next(LABELS)) addSignal.labels.push(reader.string("add_signal.labels", true));
  if (reader.next(TAXONOMY_VERSION)) addSignal.taxonomyVersion = reader.uint32("add_signal.taxonomy_version");
  if (reader.next(QUALITY)) addSignal.quality = reader.uint32("add_signal.quality");
  return addSignal;
}

function decodeRetract(reader: CanonicalReader): Retract {
  const retract: Retract = { target: NO_BYTES, reason: 0 };
  if (reader.next(TARGET)) retract.target = reader.bytes("retract.target");
  if (reader.next(REASON)) retract.reason = reader.int32("retract.reason");
  return retract;
}

/** Field tags, (field number << 3) | wire type: each fits one byte, so a longer tag is never canonical. */
const FEDERATION_ID = 0x0a;
const SUBMITTER = 0x12;
const CREATED_AT_MS = 0x18;
const NONCE = 0x22;
const ADD_SIGNAL = 0x52;
const RETRACT = 0x5a;
const SIGNAL_TYPE = 0x0a;
const COMMITMENT = 0x12;
const LABELS = 0x1a;
const TAXONOMY_VERSION = 0x20;
const QUALITY = 0x28;
const TARGET = 0x0a;
const REASON = 0x10;
const ENTRY_STATEMENT = 0x0a;
const ENTRY_SIGNATURE = 0x12;
const REVEAL_SALT = 0x0a;
const REVEAL_VALUE = 0x12;

const NO_BYTES = Buffer.alloc(0);
const TWO_POW_32 = 2 ** 32;
const TWO_POW_64 = 1n << 64n;
const INT32_MIN_AS_UINT64 = TWO_POW_64 - (1n << 31n);
/** Varints up to this many bytes (49 bits) are read exactly as numbers; longer ones as bigints. */
const EXACT_NUMBER_VARINT_BYTES = 7;
const VARINT_BYTES_MAX = 10;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A cursor over one message's bytes that accepts only the canonical encoding. */
class CanonicalReader {
  private pos = 0;
  private end: number;

  constructor(private readonly buf: Buffer) {
    this.end = buf.length;
  }

  /** Whether the next field has this tag; if so, moves past the tag. */
  next(tag: number): boolean {
    if (this.pos >= this.end || this.buf[this.pos] !== tag) return false;
    this.pos++;
    return true;
  }

  /** A non-empty bytes field, viewed in place. */
  bytes(field: string): Buffer {
    const length = this.length(field);
    if (length === 0) throw new NotCanonical(`${field} is written with its default value (empty)`);
    const start = this.pos;
    this.pos += length;
    return this.buf.subarray(start, this.pos);
  }

  /** A string field in valid UTF-8; empty only where `emptyAllowed` (a repeated field's element). */
  string(field: string, emptyAllowed: boolean): string {
    const length = this.length(field);
    if (length === 0 && !emptyAllowed) throw new NotCanonical(`${field} is written with its default value (empty)`);
    const start = this.pos;
    this.pos += length;
    let ascii = start;
    while (ascii < this.pos && this.buf[ascii]! < 0x80) ascii++;
    if (ascii === this.pos) return this.buf.toString("latin1", start, this.pos);
    try {
      return utf8.decode(this.buf.subarray(start, this.pos));
    } catch {
      throw new NotCanonical(`${field} is not valid UTF-8`);
    }
  }

  uint32(field: string): number {
    const value = this.varint(field);
    if (typeof value === "bigint" || value >= TWO_POW_32) throw new NotCanonical(`${field} does not fit 32 bits`);
    if (value === 0) throw new NotCanonical(`${field} is written with its default value (0)`);
    return value;
  }

  /** An int32 as the encoder writes it: a negative value sign-extended to ten bytes. */
  int32(field: string): number {
    const value = this.varint(field);
    if (value === 0) throw new NotCanonical(`${field} is written with its default value (0)`);
    if (typeof value === "number" && value < 2 ** 31) return value;
    if (typeof value === "bigint" && value >= INT32_MIN_AS_UINT64) return Number(value - TWO_POW_64);
    throw new NotCanonical(`${field} is not an int32 as the encoder writes it`);
  }

  uint64(field: string): bigint {
    const value = this.varint(field);
    if (value === 0) throw new NotCanonical(`${field} is written with its default value (0)`);
    return BigInt(value);
  }

  /** Starts reading an embedded message: returns where the enclosing one ends, for leave(). */
  enter(): number {
    const length = this.length("an embedded message");
    const outerEnd = this.end;
    this.end = this.pos + length;
    return outerEnd;
  }

  /** Finishes an embedded message, which must have been read to its end. */
  leave(outerEnd: number, message: string): void {
    this.expectEnd(message);
    this.end = outerEnd;
  }

  expectEnd(message: string): void {
    if (this.pos === this.end) return;
    const tag = this.buf[this.pos]!;
    throw new NotCanonical(`${message} has more after its last field in order (a field out of order, repeated or unknown: tag byte 0x${tag.toString(16).padStart(2, "0")} at offset ${this.pos})`);
  }

  /** A length prefix, which must fit in what is left of the message. */
  private length(field: string): number {
    const length = this.varint(field);
    if (typeof length === "bigint" || length > this.end - this.pos) throw new NotCanonical(`${field} runs past the end of its message`);
    return length;
  }

  /** The shortest varint encoding of a value below 2^64: a number up to 49 bits, a bigint beyond. */
  private varint(field: string): number | bigint {
    let value = 0;
    let scale = 1;
    for (let count = 1; count <= EXACT_NUMBER_VARINT_BYTES; count++) {
      const byte = this.byte(field);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && count > 1) throw new NotCanonical(`${field} is written as a padded varint`);
        return value;
      }
      scale *= 0x80;
    }
    let big = BigInt(value);
    let shift = BigInt(7 * EXACT_NUMBER_VARINT_BYTES);
    for (let count = EXACT_NUMBER_VARINT_BYTES + 1; count <= VARINT_BYTES_MAX; count++) {
      const byte = this.byte(field);
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        if (byte === 0) throw new NotCanonical(`${field} is written as a padded varint`);
        if (big >= TWO_POW_64) throw new NotCanonical(`${field} does not fit 64 bits`);
        return big;
      }
      shift += 7n;
    }
    throw new NotCanonical(`${field} is a varint longer than ${VARINT_BYTES_MAX} bytes`);
  }

  private byte(field: string): number {
    if (this.pos >= this.end) throw new NotCanonical(`${field} runs past the end of its message`);
    return this.buf[this.pos++]!;
  }
}

/**
 * Where the bytes depart from the canonical encoding, including bytes that are not protobuf at all
 * (a varint cut short, say): decodeCanonicalStatement tells the two apart with the generated decoder.
 */
class NotCanonical extends Error {}
