import { assert } from "../assert";
import { invalid } from "../errors";
import { HASH_BYTES } from "./hasher";
import { UINT64_MAX } from "./preconditions";

/**
 * The C2SP tlog-checkpoint body (c2sp.org/tlog-checkpoint), the text that members sign as a note:
 *
 *   <origin>\n<size in decimal>\n<base64 root>\n[<extension line>\n]...
 *
 * Signing and the note around the body are elsewhere (src/crypto/signedNote.ts). Parsing is strict, so
 * that one checkpoint has one text: two texts for the same tree would make signatures over one of them
 * useless to a reader holding the other.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: bigint;
  readonly root: Buffer;
  readonly extensions: readonly string[];
}

/** Control characters have no place in a checkpoint line; a newline inside one would split it in two. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const DECIMAL_DIGITS = /^[0-9]+$/;
/** 32 bytes in padded base64: 43 characters then one "=". */
const ROOT_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
const UINT64_MAX_DIGITS = UINT64_MAX.toString().length;
/** Quoted input is cut short in messages so that a hostile line cannot flood the logs. */
const QUOTED_CHARACTERS_MAX = 80;

/** The body text. Its fields come from this node, not from peers, so one that would not parse back is an assertion. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  assert(checkpoint.origin !== "", "a checkpoint origin is not empty");
  assert(checkpoint.size >= 0n, `checkpoint size ${checkpoint.size} is negative`);
  assert(checkpoint.size <= UINT64_MAX, `checkpoint size ${checkpoint.size} is above 2^64 - 1`);
  assert(checkpoint.root.length === HASH_BYTES, `a checkpoint root is ${HASH_BYTES} bytes, got ${checkpoint.root.length}`);
  checkpoint.extensions.forEach((extension) => assert(extension !== "", "a checkpoint extension line is not empty"));
  const lines = [checkpoint.origin, checkpoint.size.toString(), checkpoint.root.toString("base64"), ...checkpoint.extensions];
  lines.forEach((line) => assert(!CONTROL_CHARACTER.test(line), `checkpoint line ${quote(line)} has a control character`));
  return lines.map((line) => line + "\n").join("");
}

/** Parses a checkpoint body strictly; throws HashfedError kind "invalid", code CHECKPOINT_MALFORMED. */
export function parseCheckpoint(body: string): Checkpoint {
  if (!body.endsWith("\n")) {
    throw malformed("a checkpoint body must end with a newline");
  }
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) {
    throw malformed(`a checkpoint body has at least 3 lines (origin, size, root hash), this one has ${lines.length}`);
  }
  lines.forEach((line, position) => {
    if (CONTROL_CHARACTER.test(line)) {
      throw malformed(`checkpoint line ${position + 1} (${quote(line)}) contains a control character`);
    }
  });
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === "") {
    throw malformed("the checkpoint origin (line 1) is empty");
  }
  extensions.forEach((extension, position) => {
    if (extension === "") {
      throw malformed(`checkpoint extension line ${position + 4} is empty`);
    }
  });
  return { origin, size: parseSize(sizeText), root: parseRoot(rootText), extensions };
}

function parseSize(text: string): bigint {
  if (!DECIMAL_DIGITS.test(text)) {
    throw malformed(`checkpoint size ${quote(text)} is not a decimal number`);
  }
  if (text.length > 1 && text.startsWith("0")) {
    throw malformed(`checkpoint size ${quote(text)} has a leading zero`);
  }
  // The length test first keeps BigInt away from absurdly long digit strings.
  if (text.length > UINT64_MAX_DIGITS || BigInt(text) > UINT64_MAX) {
    throw malformed(`checkpoint size ${quote(text)} is larger than 2^64 - 1`);
  }
  return BigInt(text);
}

function parseRoot(text: string): Buffer {
  const root = Buffer.from(text, "base64");
  // Node's decoder ignores stray characters and unused low bits, so re-encoding is what proves the text canonical.
  if (!ROOT_BASE64.test(text) || root.toString("base64") !== text) {
    throw malformed(`checkpoint root hash ${quote(text)} is not the canonical base64 of a ${HASH_BYTES}-byte hash`);
  }
  return root;
}

function malformed(message: string) {
  return invalid("CHECKPOINT_MALFORMED", message);
}

function quote(text: string): string {
  const shown = text.length > QUOTED_CHARACTERS_MAX ? text.slice(0, QUOTED_CHARACTERS_MAX) + "…" : text;
  return JSON.stringify(shown);
}
