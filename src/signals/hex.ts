import { invalid } from "../errors";

/**
 * Strict hex parsing for hash values typed by people and scripts. Buffer.from(text, "hex") stops
 * silently at the first non-hex character and drops an odd last digit, which is how a truncated or
 * corrupt hash slips into a list (ThreatExchange #1609); here every such input is an error that says
 * what is wrong and where.
 *
 * Upper case is accepted and normalised to lower case: scripts often emit upper case (md5sum on some
 * systems, .NET, PowerShell), and a value's identity is its bytes, not its spelling, so "ABCD" and
 * "abcd" are the same value. Surrounding whitespace is rejected, not trimmed: it usually means a
 * line was split wrongly, and a value that went through a broken pipeline should be looked at.
 */

/** How many characters of a bad input an error message quotes: enough to recognise, bounded. */
const QUOTE_CHARS_MAX = 80;

/** `text` as a JSON string literal, cut to QUOTE_CHARS_MAX characters so a huge input cannot flood a log line. */
export function quote(text: string): string {
  if (text.length <= QUOTE_CHARS_MAX) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, QUOTE_CHARS_MAX))}... (${text.length} characters)`;
}

/**
 * Parses exactly `bytes` bytes of hex. `what` names the value in messages, with its article
 * ("an md5 hash"), so that an error reads "an md5 hash is 32 hex characters, got 31".
 */
export function parseHex(text: string, bytes: number, what: string): Buffer {
  const digits = bytes * 2;
  if (text.length === 0) throw invalid("SIGNAL_VALUE_EMPTY", `${what} is ${digits} hex characters, got an empty string`);
  if (/^\s|\s$/.test(text)) {
    throw invalid("SIGNAL_VALUE_WHITESPACE", `${what} must not have surrounding whitespace, got ${quote(text)}`);
  }
  const offset = firstNonHexOffset(text);
  if (offset >= 0) {
    const character = String.fromCodePoint(text.codePointAt(offset)!);
    throw invalid(
      "SIGNAL_VALUE_NOT_HEX",
      `${what} is hex: the character ${JSON.stringify(character)} at offset ${offset} (counting from 0) is not a hex digit`,
    );
  }
  if (text.length !== digits) {
    throw invalid("SIGNAL_VALUE_BAD_LENGTH", `${what} is ${digits} hex characters, got ${text.length}`);
  }
  return Buffer.from(text, "hex");
}

/** The offset of the first character that is not 0-9, a-f or A-F, or -1 when there is none. */
function firstNonHexOffset(text: string): number {
  for (let offset = 0; offset < text.length; offset++) {
    const code = text.charCodeAt(offset);
    const isDigit = code >= 0x30 && code <= 0x39;
    const isLower = code >= 0x61 && code <= 0x66;
    const isUpper = code >= 0x41 && code <= 0x46;
    if (!isDigit && !isLower && !isUpper) return offset;
  }
  return -1;
}
