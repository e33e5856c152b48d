import { dirname } from "node:path";
import { errorCode, writeFileAtomically } from "../files/atomicFile";
import { readBoundedFile } from "../files/boundedFile";
import { HashfedError, invalid } from "../errors";
import { parsePrivateKey, parseVerifierKey, type PrivateKey, type VerifierKey } from "./keys";

export { checkOwnerOnly } from "../files/boundedFile";

/**
 * Key files hold one key text and a newline. A private key file is created with mode 0600 and is
 * refused when group or others can reach it, as ssh does: a key others could read is no longer a
 * secret, and one they could write could be swapped for theirs. Writes go to a temporary file in
 * the same folder that is synced and then moved into place, so a crash leaves the old file or the
 * new one, never half a key.
 */

/** A key text is under 200 bytes for any sensible name; the bound stops a wrong path from being read whole. */
export const KEY_FILE_BYTES_MAX = 4096;
export const PRIVATE_KEY_FILE_MODE = 0o600;
export const VERIFIER_KEY_FILE_MODE = 0o644;

export interface KeyFileWriteOptions {
  /** Replace an existing file. Off by default: overwriting a private key loses an identity. */
  readonly overwrite?: boolean;
}

export async function writePrivateKeyFile(path: string, key: PrivateKey, options: KeyFileWriteOptions = {}): Promise<void> {
  await writeKeyFile(path, key.text + "\n", PRIVATE_KEY_FILE_MODE, options.overwrite ?? false);
}

export async function writeVerifierKeyFile(path: string, key: VerifierKey, options: KeyFileWriteOptions = {}): Promise<void> {
  await writeKeyFile(path, key.text + "\n", VERIFIER_KEY_FILE_MODE, options.overwrite ?? false);
}

export async function readPrivateKeyFile(path: string): Promise<PrivateKey> {
  const text = await readKeyFileText(path, { ownerOnly: true }).catch(async (error: unknown) => {
    if (error instanceof HashfedError && error.code === "KEY_FILE_PERMISSIONS") refuseVerifierKey(path, await readKeyFileText(path, { ownerOnly: false }));
    throw error;
  });
  refuseVerifierKey(path, text);
  return parseKeyFile(path, text, parsePrivateKey);
}

/** A verifier key file (public, mode 0644) given for a private key: told so, where "chmod 600" only led to the next refusal. */
function refuseVerifierKey(path: string, text: string): void {
  try {
    parseVerifierKey(text.trim());
  } catch {
    return;
  }
  throw invalid("KEY_FILE_IS_VERIFIER_KEY", `${path} holds a verifier key, which is public: give the member's private key file (its text starts with PRIVATE+KEY+), which hashfed keygen wrote beside it`);
}

export async function readVerifierKeyFile(path: string): Promise<VerifierKey> {
  return parseKeyFile(path, await readKeyFileText(path, { ownerOnly: false }), parseVerifierKey);
}

async function writeKeyFile(path: string, contents: string, mode: number, overwrite: boolean): Promise<void> {
  try {
    await writeFileAtomically(path, contents, { mode, exclusive: !overwrite });
  } catch (error) {
    if (errorCode(error) === "EEXIST") throw keyFileExists(path);
    throw keyFileWriteError(error, path);
  }
}

/** Bearer tokens shorter than this are guessable. */
export const TOKEN_CHARS_MIN = 16;

/** A Member service token file: owner-only like a private key file, one line of at least TOKEN_CHARS_MIN characters. */
export async function readTokenFile(path: string): Promise<string> {
  return parseToken(await readKeyFileText(path, { ownerOnly: true }), path);
}

/**
 * A member token from a token file's text: visible ASCII, as an HTTP header value carries it (a
 * node took any text, which no client could then send; a client echoed a bad one in its error),
 * at least TOKEN_CHARS_MIN characters. Errors never quote the token.
 */
export function parseToken(text: string, path: string): string {
  const token = text.trim();
  if (!/^[\x21-\x7e]*$/.test(token)) {
    throw invalid("TOKEN_CHARACTERS", `the token in ${path} must be one line of visible ASCII characters (letters, digits, punctuation; no spaces)`);
  }
  if (token.length < TOKEN_CHARS_MIN) {
    throw invalid("TOKEN_TOO_SHORT", `the token in ${path} has ${token.length} characters; use at least ${TOKEN_CHARS_MIN} random ones`);
  }
  return token;
}

/** Reads a key file's text, checking its permissions on the opened file so the check and the read see the same file. */
async function readKeyFileText(path: string, { ownerOnly }: { ownerOnly: boolean }): Promise<string> {
  const bytes = readBoundedFile(path, { maxBytes: KEY_FILE_BYTES_MAX, ownerOnly }, {
    unopened: (error) => keyFileReadError(error, path),
    notRegular: () => invalid("KEY_FILE_NOT_A_FILE", `${path} is not a regular file, so it cannot be a key file`),
    tooLarge: () => invalid("KEY_FILE_TOO_LARGE", `key file ${path} is larger than ${KEY_FILE_BYTES_MAX} bytes; a key file is smaller`),
  });
  return decodeKeyFileText(path, bytes);
}

/** The file is the key text and one newline; the newline is optional so hand-written files work too. */
function decodeKeyFileText(path: string, bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalid("KEY_FILE_MALFORMED", `key file ${path} is not UTF-8 text`);
  }
  if (text.endsWith("\n")) text = text.slice(0, -1);
  if (text.length === 0) throw invalid("KEY_FILE_MALFORMED", `key file ${path} is empty`);
  if (/[\r\n]/.test(text)) {
    throw invalid("KEY_FILE_MALFORMED", `key file ${path} must hold exactly one line, the key text, ending in a newline (no CR)`);
  }
  return text;
}

/** Parses the text with `parse`, naming the file in any error. */
function parseKeyFile<Key>(path: string, text: string, parse: (text: string) => Key): Key {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof HashfedError)) throw error;
    throw new HashfedError(error.kind, error.code, `key file ${path}: ${error.message}`);
  }
}

function keyFileExists(path: string): HashfedError {
  return new HashfedError("exists", "KEY_FILE_EXISTS", `refusing to overwrite the existing key file ${path}; move it away first to replace it`);
}

function keyFileWriteError(error: unknown, path: string): unknown {
  switch (errorCode(error)) {
    case "ENOENT":
      return new HashfedError("not-found", "KEY_FILE_FOLDER_MISSING", `cannot write key file ${path}: the folder ${dirname(path)} does not exist`);
    case "EACCES":
    case "EPERM":
      return new HashfedError("forbidden", "KEY_FILE_ACCESS_DENIED", `cannot write key file ${path}: permission denied`);
    case "EISDIR":
      return invalid("KEY_FILE_NOT_A_FILE", `cannot write key file ${path}: it is a folder`);
    default:
      return error;
  }
}

function keyFileReadError(error: unknown, path: string): unknown {
  switch (errorCode(error)) {
    case "ENOENT":
      return new HashfedError("not-found", "KEY_FILE_MISSING", `no key file at ${path}`);
    case "EACCES":
    case "EPERM":
      return new HashfedError("forbidden", "KEY_FILE_ACCESS_DENIED", `cannot read key file ${path}: permission denied`);
    default:
      return error;
  }
}

