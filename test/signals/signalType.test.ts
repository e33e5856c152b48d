import fc from "fast-check";
import { AssertionError } from "../../src/assert";
import { HashfedError } from "../../src/errors";
import { SIGNAL_TYPE_NAMES, isSignalTypeName, signalType } from "../../src/signals";
import { hashfedError as thrown } from "../support/hashfedErrors";

/**
 * Goal: hashes are parsed strictly at the edge (ThreatExchange #1609: a corrupt 32-character PDQ
 * crashed an index build) and every rejection says precisely what is wrong. Method: a table of bad
 * inputs per signal type with the exact message, plus round-trip properties on random values.
 */


const MD5_EMPTY_FILE = "d41d8cd98f00b204e9800998ecf8427e";
const SHA256_BRIDGE = "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298";
const PDQ_BRIDGE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

describe("signal type registry", () => {
  test("knows pdq, md5 and sha256 with their raw lengths", () => {
    expect(SIGNAL_TYPE_NAMES).toEqual(["pdq", "md5", "sha256"]);
    expect(signalType("pdq").valueBytes).toBe(32);
    expect(signalType("md5").valueBytes).toBe(16);
    expect(signalType("sha256").valueBytes).toBe(32);
    expect(isSignalTypeName("md5")).toBe(true);
    expect(isSignalTypeName("MD5")).toBe(false);
  });

  test.each([
    ["tmk", 'unknown signal type "tmk"; the known types are pdq, md5, sha256'],
    ["", 'unknown signal type ""; the known types are pdq, md5, sha256'],
    ["SHA-256", 'unknown signal type "SHA-256" (did you mean "sha256"?); the known types are pdq, md5, sha256'],
    ["MD5", 'unknown signal type "MD5" (did you mean "md5"?); the known types are pdq, md5, sha256'],
    ["pdq ", 'unknown signal type "pdq "; the known types are pdq, md5, sha256'],
  ])("rejects the unknown type %j", (name, message) => {
    const error = thrown(() => signalType(name));
    expect(error.kind).toBe("invalid");
    expect(error.code).toBe("SIGNAL_TYPE_UNKNOWN");
    expect(error.message).toBe(message);
  });

  test("quotes a huge unknown name only in part", () => {
    const error = thrown(() => signalType("x".repeat(10_000)));
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toContain("(10000 characters)");
  });
});

describe("parse: the exact error for each malformed value", () => {
  const cases: Array<[type: string, text: string, code: string, message: string]> = [
    ["md5", "", "SIGNAL_VALUE_EMPTY", "an md5 hash is 32 hex characters, got an empty string"],
    ["md5", MD5_EMPTY_FILE.slice(1), "SIGNAL_VALUE_BAD_LENGTH", "an md5 hash is 32 hex characters, got 31"],
    ["md5", `${MD5_EMPTY_FILE}0`, "SIGNAL_VALUE_BAD_LENGTH", "an md5 hash is 32 hex characters, got 33"],
    ["md5", ` ${MD5_EMPTY_FILE}`, "SIGNAL_VALUE_WHITESPACE", `an md5 hash must not have surrounding whitespace, got " ${MD5_EMPTY_FILE}"`],
    ["md5", `${MD5_EMPTY_FILE}\n`, "SIGNAL_VALUE_WHITESPACE", `an md5 hash must not have surrounding whitespace, got "${MD5_EMPTY_FILE}\\n"`],
    ["md5", `0x${MD5_EMPTY_FILE.slice(2)}`, "SIGNAL_VALUE_NOT_HEX", 'an md5 hash is hex: the character "x" at offset 1 (counting from 0) is not a hex digit'],
    ["md5", "d41d8cd98f00b204 e9800998ecf8427", "SIGNAL_VALUE_NOT_HEX", 'an md5 hash is hex: the character " " at offset 16 (counting from 0) is not a hex digit'],
    ["sha256", `${SHA256_BRIDGE.slice(0, 63)}g`, "SIGNAL_VALUE_NOT_HEX", 'a sha256 hash is hex: the character "g" at offset 63 (counting from 0) is not a hex digit'],
    ["sha256", `é${SHA256_BRIDGE.slice(1)}`, "SIGNAL_VALUE_NOT_HEX", 'a sha256 hash is hex: the character "é" at offset 0 (counting from 0) is not a hex digit'],
    ["sha256", `${SHA256_BRIDGE.slice(0, 10)}😀${SHA256_BRIDGE.slice(12)}`, "SIGNAL_VALUE_NOT_HEX", 'a sha256 hash is hex: the character "😀" at offset 10 (counting from 0) is not a hex digit'],
    ["sha256", SHA256_BRIDGE.slice(0, 63), "SIGNAL_VALUE_BAD_LENGTH", "a sha256 hash is 64 hex characters, got 63"],
    // ThreatExchange #1609: a 32-character run of zeros stored as a PDQ hash.
    ["pdq", "0".repeat(32), "SIGNAL_VALUE_BAD_LENGTH", "a pdq hash is 64 hex characters, got 32"],
    ["pdq", PDQ_BRIDGE.slice(0, 63), "SIGNAL_VALUE_BAD_LENGTH", "a pdq hash is 64 hex characters, got 63"],
    ["pdq", `${PDQ_BRIDGE},100`, "SIGNAL_VALUE_NOT_HEX", 'a pdq hash is hex: the character "," at offset 64 (counting from 0) is not a hex digit'],
    ["pdq", "\t", "SIGNAL_VALUE_WHITESPACE", 'a pdq hash must not have surrounding whitespace, got "\\t"'],
  ];

  test.each(cases)("%s %j", (type, text, code, message) => {
    const error = thrown(() => signalType(type).parse(text));
    expect(error.kind).toBe("invalid");
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });

  test("a huge value is quoted only in part", () => {
    const error = thrown(() => signalType("md5").parse(` ${"a".repeat(1_000_000)}`));
    expect(error.message.length).toBeLessThan(300);
  });
});

describe("parse and format", () => {
  test("known values parse to their raw bytes", () => {
    expect(signalType("md5").parse(MD5_EMPTY_FILE)).toEqual(Buffer.from(MD5_EMPTY_FILE, "hex"));
    expect(signalType("sha256").parse(SHA256_BRIDGE).length).toBe(32);
    expect(signalType("pdq").parse(PDQ_BRIDGE)[0]).toBe(0xf8);
  });

  test("upper and mixed case parse to the same bytes and format to lower case", () => {
    const md5 = signalType("md5");
    const upper = md5.parse(MD5_EMPTY_FILE.toUpperCase());
    const mixed = md5.parse("D41d8CD98f00B204e9800998ECF8427E");
    expect(upper).toEqual(md5.parse(MD5_EMPTY_FILE));
    expect(mixed).toEqual(upper);
    expect(md5.format(upper)).toBe(MD5_EMPTY_FILE);
  });

  test.each(SIGNAL_TYPE_NAMES)("%s: format then parse is the identity on raw values, in either case", (name) => {
    const type = signalType(name);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: type.valueBytes, maxLength: type.valueBytes }), (value) => {
        const text = type.format(value);
        expect(text).toMatch(new RegExp(`^[0-9a-f]{${type.valueBytes * 2}}$`));
        expect(type.parse(text)).toEqual(Buffer.from(value));
        expect(type.parse(text.toUpperCase())).toEqual(Buffer.from(value));
      }),
    );
  });

  test.each(SIGNAL_TYPE_NAMES)("%s: any string either parses to exactly valueBytes bytes or is rejected as invalid", (name) => {
    const type = signalType(name);
    const hexish = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEFxg -\n"), maxLength: 80 });
    fc.assert(
      fc.property(fc.oneof(hexish, fc.string()), (text) => {
        try {
          expect(type.parse(text).length).toBe(type.valueBytes);
        } catch (error) {
          expect(error).toBeInstanceOf(HashfedError);
          expect((error as HashfedError).kind).toBe("invalid");
        }
      }),
    );
  });

  test("format takes a view of a larger buffer without reading outside it", () => {
    const backing = Buffer.from(`ff${MD5_EMPTY_FILE}ff`, "hex");
    expect(signalType("md5").format(backing.subarray(1, 17))).toBe(MD5_EMPTY_FILE);
  });

  test("format of a wrong-length value is a programmer error", () => {
    expect(() => signalType("md5").format(new Uint8Array(15))).toThrow(AssertionError);
  });
});

describe("checkValue: raw bytes from the wire", () => {
  test.each([
    ["md5", 16, 15, "an md5 hash is 16 bytes, got 15"],
    ["md5", 16, 32, "an md5 hash is 16 bytes, got 32"],
    ["sha256", 32, 0, "a sha256 hash is 32 bytes, got 0"],
    ["pdq", 32, 33, "a pdq hash is 32 bytes, got 33"],
  ])("%s accepts %d bytes and rejects %d", (name, good, bad, message) => {
    const type = signalType(name);
    expect(() => type.checkValue(new Uint8Array(good))).not.toThrow();
    const error = thrown(() => type.checkValue(new Uint8Array(bad)));
    expect(error.code).toBe("SIGNAL_VALUE_BAD_LENGTH");
    expect(error.message).toBe(message);
  });
});
