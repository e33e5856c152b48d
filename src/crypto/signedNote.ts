import { HashfedError, invalid } from "../errors";
import { SIGNATURE_BYTES, signEd25519 } from "./ed25519";
import { verifyRemembered } from "./verifyRemembered";
import { checkKeyName, KEY_ID_BYTES, type PrivateKey, type VerifierKey } from "./keys";
import { startsWithDomainPrefix } from "./signingDomain";

/**
 * C2SP signed notes (c2sp.org/signed-note): a text ending in "\n", a blank line, then one or more
 * lines "— <key name> base64(keyID[4] || signature)". The em dash is U+2014. Ed25519 note signatures
 * sign the note text itself, with no hashfed domain prefix, so that standard verifiers such as Go's
 * golang.org/x/mod/sumdb/note accept hashfed checkpoints.
 */

/** Go's sumdb/note stops at 100 signatures; the spec asks verifiers to accept at least 16. */
export const NOTE_SIGNATURES_MAX = 100;
/** A checkpoint body with extension lines is well under a kibibyte; the bound leaves room and stops abuse. */
export const NOTE_TEXT_BYTES_MAX = 64 * 1024;
/** Room for a post-quantum signature (the spec warns of nearly 5 kB, 6.7 kB in base64) and its key name. */
export const NOTE_SIGNATURE_LINE_BYTES_MAX = 8 * 1024;
/** The largest note that can hold a maximal text and the maximal number of maximal signature lines. */
export const NOTE_BYTES_MAX = NOTE_TEXT_BYTES_MAX + 1 + NOTE_SIGNATURES_MAX * (NOTE_SIGNATURE_LINE_BYTES_MAX + 1);
/** A signature carries a key id and at least one byte of signature (as in Go's parser). */
export const NOTE_SIGNATURE_BYTES_MIN = KEY_ID_BYTES + 1;
/** An Ed25519 note signature: key id then the 64-byte signature. Votes carry this form. */
export const ED25519_NOTE_SIGNATURE_BYTES = KEY_ID_BYTES + SIGNATURE_BYTES;

const SIGNATURE_LINE_PREFIX = "\u2014 ";

export interface NoteSignature {
  readonly name: string;
  readonly keyId: Buffer;
  /** The signature proper, without the key id. */
  readonly signature: Buffer;
}

export interface Note {
  /** The signed text, ending in "\n"; it does not include the blank line before the signatures. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Signs `text` as a note. Refuses a text that is not a valid note text or that begins like a hashfed domain message. */
export function signNoteText(text: string, key: PrivateKey): NoteSignature {
  checkNoteText(text);
  if (startsWithDomainPrefix(text)) {
    throw invalid("NOTE_TEXT_RESERVED", "a note text must not begin with a hashfed signing domain prefix (hashfed/v1/<domain>\\n)");
  }
  const signature = signEd25519(key.keyObject, Buffer.from(text, "utf8"));
  return { name: key.name, keyId: Buffer.from(key.keyId), signature };
}

export function formatNote(note: Note): string {
  checkNoteText(note.text);
  checkSignatureCount(note.signatures.length);
  return note.text + "\n" + note.signatures.map((signature) => noteSignatureLine(signature) + "\n").join("");
}

/**
 * Parses a signed note strictly: well-formed text with no control character but newline, a final
 * newline, a blank line, and at least one well-formed signature line. The signatures are not
 * verified here (see verifyNoteSignatures). The text is split from the signatures at the last blank
 * line, as the spec says, so the text may itself contain blank lines.
 */
export function parseNote(message: string): Note {
  // UTF-8 never takes fewer bytes than UTF-16 code units, so the cheap length check comes first.
  if (message.length > NOTE_BYTES_MAX || Buffer.byteLength(message, "utf8") > NOTE_BYTES_MAX) {
    throw invalid("NOTE_TOO_LARGE", `a signed note is at most ${NOTE_BYTES_MAX} bytes`);
  }
  checkNoteCharacters(message);
  if (!message.endsWith("\n")) throw invalid("NOTE_NO_FINAL_NEWLINE", "a signed note must end in a newline");
  const split = message.lastIndexOf("\n\n");
  if (split < 0) {
    throw invalid("NOTE_NO_BLANK_LINE", "a signed note needs a blank line between its text and its signature lines");
  }
  const text = message.slice(0, split + 1);
  const signatureBlock = message.slice(split + 2);
  if (signatureBlock === "") throw invalid("NOTE_NO_SIGNATURES", "a signed note needs at least one signature line after the blank line");
  checkNoteTextSize(text);
  const lines = signatureBlock.slice(0, -1).split("\n");
  checkSignatureCount(lines.length);
  const signatures = lines.map((line, index) => {
    try {
      return parseNoteSignatureLine(line);
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      throw invalid(error.code, `signature line ${index + 1}: ${error.message}`);
    }
  });
  return { text, signatures };
}

/** Parses a note received as bytes, refusing bytes that are not UTF-8 rather than replacing them. */
export function parseNoteBytes(bytes: Uint8Array): Note {
  if (bytes.length > NOTE_BYTES_MAX) throw invalid("NOTE_TOO_LARGE", `a signed note is at most ${NOTE_BYTES_MAX} bytes`);
  let message: string;
  try {
    // ignoreBOM keeps a leading byte-order mark in the text, so no byte is dropped silently.
    message = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw invalid("NOTE_NOT_UTF8", "a signed note must be valid UTF-8");
  }
  return parseNote(message);
}

/**
 * Returns the distinct keys among `keys` whose signatures on the note verify, in the order they
 * first sign. Signatures by unknown keys (no key with both that name and that key id) are ignored,
 * as the spec requires. A known key's failing signature rejects the whole note. An empty result
 * means the note is not authenticated: callers must refuse it (see openNote) or count it against
 * their quorum.
 */
export function verifyNoteSignatures(note: Note, keys: readonly VerifierKey[]): VerifierKey[] {
  const keysByNameAndId = indexKeys(keys);
  const textBytes = Buffer.from(note.text, "utf8");
  const verified = new Map<string, VerifierKey>();
  for (const signature of note.signatures) {
    const lookup = keyLookup(signature.name, signature.keyId);
    const key = keysByNameAndId.get(lookup);
    if (key === undefined) continue;
    if (!verifyRemembered(key, textBytes, signature.signature)) {
      throw new HashfedError(
        "unauthenticated",
        "NOTE_SIGNATURE_INVALID",
        `the signature by ${signature.name} (key id ${signature.keyId.toString("hex")}) does not verify over the note text`,
      );
    }
    if (!verified.has(lookup)) verified.set(lookup, key);
  }
  return [...verified.values()];
}

/** Parses and verifies a note, refusing it unless at least one known key signed it (spec: MUST reject). */
export function openNote(message: string, keys: readonly VerifierKey[]): { note: Note; verifiedKeys: VerifierKey[] } {
  const note = parseNote(message);
  const verifiedKeys = verifyNoteSignatures(note, keys);
  if (verifiedKeys.length === 0) {
    throw new HashfedError("unauthenticated", "NOTE_UNVERIFIED", "no signature on the note is by a known key");
  }
  return { note, verifiedKeys };
}

/** The signature line without its final newline: "— <name> base64(keyID || signature)". */
export function noteSignatureLine(signature: NoteSignature): string {
  checkNoteSignatureName(signature.name);
  if (signature.keyId.length !== KEY_ID_BYTES) {
    throw invalid("NOTE_SIGNATURE_MALFORMED", `a note signature's key id is ${KEY_ID_BYTES} bytes, got ${signature.keyId.length}`);
  }
  if (signature.signature.length === 0) throw invalid("NOTE_SIGNATURE_MALFORMED", "a note signature must not be empty");
  const line = `${SIGNATURE_LINE_PREFIX}${signature.name} ${noteSignatureBytes(signature).toString("base64")}`;
  checkSignatureLineSize(line);
  return line;
}

/** Parses one signature line, given without its final newline. */
export function parseNoteSignatureLine(line: string): NoteSignature {
  checkSignatureLineSize(line);
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) {
    throw invalid(
      "NOTE_SIGNATURE_NO_DASH",
      `a signature line starts with an em dash (U+2014) and a space, got ${JSON.stringify(line.slice(0, 2))}` +
        " (the signature lines are those after the last blank line)",
    );
  }
  const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw invalid("NOTE_SIGNATURE_MALFORMED", "a signature line holds a key name, a space and a base64 signature");
  const name = rest.slice(0, space);
  const encoded = rest.slice(space + 1);
  checkNoteSignatureName(name);
  const decoded = Buffer.from(encoded, "base64");
  // Node's decoder skips characters outside the alphabet; re-encoding catches them and bad padding.
  if (encoded === "" || decoded.toString("base64") !== encoded) {
    throw invalid("NOTE_SIGNATURE_BASE64_BAD", `the signature by ${name} is not canonical standard base64`);
  }
  if (decoded.length < NOTE_SIGNATURE_BYTES_MIN) {
    throw invalid("NOTE_SIGNATURE_TOO_SHORT", `the signature by ${name} is ${decoded.length} bytes, fewer than ${NOTE_SIGNATURE_BYTES_MIN}`);
  }
  return { name, keyId: decoded.subarray(0, KEY_ID_BYTES), signature: decoded.subarray(KEY_ID_BYTES) };
}

/** keyID || signature: the bytes a signature line carries in base64. */
export function noteSignatureBytes(signature: NoteSignature): Buffer {
  return Buffer.concat([signature.keyId, signature.signature]);
}

/** Rebuilds an Ed25519 note signature from the 68 bytes (key id || signature) a vote carries. */
export function noteSignatureFromBytes(name: string, bytes: Uint8Array): NoteSignature {
  checkNoteSignatureName(name);
  if (bytes.length !== ED25519_NOTE_SIGNATURE_BYTES) {
    throw invalid("NOTE_SIGNATURE_MALFORMED", `an Ed25519 note signature is ${ED25519_NOTE_SIGNATURE_BYTES} bytes, got ${bytes.length}`);
  }
  const copy = Buffer.from(bytes);
  return { name, keyId: copy.subarray(0, KEY_ID_BYTES), signature: copy.subarray(KEY_ID_BYTES) };
}

/** A note text: ends in a newline, holds no control character but newline, and is not too large. */
export function checkNoteText(text: string): void {
  if (!text.endsWith("\n")) throw invalid("NOTE_TEXT_NO_FINAL_NEWLINE", "a note text must end in a newline");
  checkNoteTextSize(text);
  checkNoteCharacters(text);
}

function checkNoteTextSize(text: string): void {
  if (text.length > NOTE_TEXT_BYTES_MAX || Buffer.byteLength(text, "utf8") > NOTE_TEXT_BYTES_MAX) {
    throw invalid("NOTE_TEXT_TOO_LARGE", `a note text is at most ${NOTE_TEXT_BYTES_MAX} bytes`);
  }
}

function checkSignatureLineSize(line: string): void {
  if (line.length > NOTE_SIGNATURE_LINE_BYTES_MAX || Buffer.byteLength(line, "utf8") > NOTE_SIGNATURE_LINE_BYTES_MAX) {
    throw invalid("NOTE_SIGNATURE_LINE_TOO_LONG", `a signature line is at most ${NOTE_SIGNATURE_LINE_BYTES_MAX} bytes`);
  }
}

function checkSignatureCount(count: number): void {
  if (count === 0) throw invalid("NOTE_NO_SIGNATURES", "a signed note needs at least one signature");
  if (count > NOTE_SIGNATURES_MAX) {
    throw invalid("NOTE_TOO_MANY_SIGNATURES", `a signed note holds at most ${NOTE_SIGNATURES_MAX} signatures, got ${count}`);
  }
}

/** The spec allows no ASCII control character but newline, and the text must be UTF-8 (no lone surrogate). */
function checkNoteCharacters(text: string): void {
  const control = /[\u0000-\u0009\u000b-\u001f]/.exec(text);
  if (control !== null) {
    const codePoint = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw invalid("NOTE_CONTROL_CHARACTER", `a note contains the control character U+${codePoint} at offset ${control.index}; only newline is allowed`);
  }
  if (/\p{Cs}/u.test(text)) throw invalid("NOTE_NOT_UTF8", "a note contains a lone surrogate, which has no UTF-8 encoding");
}

function checkNoteSignatureName(name: string): void {
  try {
    checkKeyName(name);
  } catch (error) {
    if (!(error instanceof HashfedError)) throw error;
    throw invalid("NOTE_SIGNATURE_NAME_BAD", `the signer's name is not a valid key name: ${error.message}`);
  }
}

/** Key names contain no '+', so name+hex(keyId) identifies a (name, key id) pair uniquely. */
function keyLookup(name: string, keyId: Buffer): string {
  return `${name}+${keyId.toString("hex")}`;
}

function indexKeys(keys: readonly VerifierKey[]): Map<string, VerifierKey> {
  const index = new Map<string, VerifierKey>();
  for (const key of keys) {
    const lookup = keyLookup(key.name, key.keyId);
    const known = index.get(lookup);
    if (known !== undefined && !known.publicKey.equals(key.publicKey)) {
      throw invalid("NOTE_KEYS_AMBIGUOUS", `two different keys share the name ${key.name} and key id ${key.keyId.toString("hex")}`);
    }
    index.set(lookup, key);
  }
  return index;
}
