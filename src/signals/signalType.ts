import { assert } from "../assert";
import { invalid } from "../errors";
import { parseHex, quote } from "./hex";

/**
 * The signal types a federation shares. Text (hex) exists only at the edge: parse() turns what a
 * client or a file sends into raw bytes, and everything inside hashfed (statements, reveals, the
 * match indexes) holds those bytes. Two spellings of one value are therefore one value.
 */
export type SignalTypeName = "pdq" | "md5" | "sha256";

export interface SignalType {
  readonly name: SignalTypeName;
  /** Length of the raw value: 16 for md5, 32 for pdq and sha256. */
  readonly valueBytes: number;
  /** Strict hex to raw bytes (see hex.ts for the rules); throws HashfedError invalid. */
  parse(text: string): Buffer;
  /** Raw bytes to lower-case hex. Requires a value of valueBytes bytes (a programmer error otherwise). */
  format(value: Uint8Array): string;
  /** Checks raw bytes that arrived from the wire (a reveal, a query): throws HashfedError invalid. */
  checkValue(value: Uint8Array): void;
}

function hexSignalType(name: SignalTypeName, valueBytes: number, article: "a" | "an"): SignalType {
  const what = `${article} ${name} hash`;
  return Object.freeze({
    name,
    valueBytes,
    parse: (text: string) => parseHex(text, valueBytes, what),
    format(value: Uint8Array): string {
      assert(value.length === valueBytes, `${what} is ${valueBytes} bytes, got ${value.length}`);
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
    },
    checkValue(value: Uint8Array): void {
      if (value.length !== valueBytes) {
        throw invalid("SIGNAL_VALUE_BAD_LENGTH", `${what} is ${valueBytes} bytes, got ${value.length}`);
      }
    },
  });
}

// PDQ is a 256-bit perceptual hash; its bit order is documented in pdq.ts.
const SIGNAL_TYPES: ReadonlyMap<SignalTypeName, SignalType> = new Map([
  ["pdq", hexSignalType("pdq", 32, "a")],
  ["md5", hexSignalType("md5", 16, "an")],
  ["sha256", hexSignalType("sha256", 32, "a")],
]);

export const SIGNAL_TYPE_NAMES: readonly SignalTypeName[] = Object.freeze([...SIGNAL_TYPES.keys()]);

export function isSignalTypeName(name: string): name is SignalTypeName {
  return SIGNAL_TYPES.has(name as SignalTypeName);
}

/** The signal type called `name`. Names are exact and lower case, as they appear in signed statements. */
export function signalType(name: string): SignalType {
  const type = SIGNAL_TYPES.get(name as SignalTypeName);
  if (type !== undefined) return type;
  const known = SIGNAL_TYPE_NAMES.join(", ");
  // "SHA-256" and "MD5" are common spellings elsewhere: point to the exact name rather than guess.
  const nearest = name.toLowerCase().replace(/[-_]/g, "");
  const hint = isSignalTypeName(nearest) ? ` (did you mean "${nearest}"?)` : "";
  throw invalid("SIGNAL_TYPE_UNKNOWN", `unknown signal type ${quote(name)}${hint}; the known types are ${known}`);
}
