import fc from "fast-check";
import { createHash } from "node:crypto";
import { AssertionError } from "../../src/assert";
import { SALT_BYTES, SIGNAL_TYPE_NAMES, checkReveal, commitment, signalType, type SignalTypeName } from "../../src/signals";
import { hashfedError as thrown } from "../support/hashfedErrors";

/**
 * Goal: a commitment binds the signal type, the salt and the value, and a reveal is accepted only
 * when it opens the commitment. Method: a pinned vector, the layout rebuilt by hand, properties
 * that change one input at a time, and a table of bad reveals.
 */

const SALT = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
const MD5_EMPTY_FILE = Buffer.from("d41d8cd98f00b204e9800998ecf8427e", "hex");
const salt16 = fc.uint8Array({ minLength: SALT_BYTES, maxLength: SALT_BYTES });
const typeName = fc.constantFrom(...SIGNAL_TYPE_NAMES);
const typeAndValue = typeName.chain((name) =>
  fc.tuple(fc.constant(name), fc.uint8Array({ minLength: signalType(name).valueBytes, maxLength: signalType(name).valueBytes })),
);


describe("commitment", () => {
  test("pinned vector: md5 of the empty file with salt 00..0f", () => {
    expect(commitment("md5", SALT, MD5_EMPTY_FILE).toString("hex")).toBe(
      "600a50c03c9a6c104889214510f37a6fafbf8d6bd1fe956e0428856bd26550ff",
    );
  });

  test('is SHA-256("hashfed/v1/commit\\n" || salt || type || "\\n" || value)', () => {
    fc.assert(
      fc.property(typeAndValue, salt16, ([name, value], salt) => {
        const layout = Buffer.concat([Buffer.from("hashfed/v1/commit\n"), salt, Buffer.from(`${name}\n`), value]);
        return commitment(name, salt, value).equals(createHash("sha256").update(layout).digest());
      }),
    );
  });

  test("binds the type: the same 32 bytes as pdq and as sha256 commit differently", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), salt16, (value, salt) => {
        return !commitment("pdq", salt, value).equals(commitment("sha256", salt, value));
      }),
    );
  });

  test("binds the salt and the value: flipping any bit of either changes it", () => {
    fc.assert(
      fc.property(typeAndValue, salt16, fc.nat(), fc.boolean(), ([name, value], salt, bitSeed, inSalt) => {
        const original = commitment(name, salt, value);
        const target = Uint8Array.from(inSalt ? salt : value);
        const bit = bitSeed % (target.length * 8);
        target[bit >> 3]! ^= 1 << (bit & 7);
        const changed = inSalt ? commitment(name, target, value) : commitment(name, salt, target);
        return !changed.equals(original);
      }),
    );
  });

  test("wrong lengths are programmer errors here (checkReveal reports them for input)", () => {
    expect(() => commitment("md5", new Uint8Array(15), MD5_EMPTY_FILE)).toThrow(AssertionError);
    expect(() => commitment("md5", SALT, new Uint8Array(32))).toThrow(AssertionError);
  });
});

describe("checkReveal", () => {
  const expected = commitment("md5", SALT, MD5_EMPTY_FILE);

  test("accepts the reveal that opens the commitment", () => {
    expect(() => checkReveal("md5", expected, SALT, MD5_EMPTY_FILE)).not.toThrow();
    fc.assert(fc.property(typeAndValue, salt16, ([name, value], salt) => checkReveal(name, commitment(name, salt, value), salt, value) === undefined));
  });

  const otherValue = Buffer.from(MD5_EMPTY_FILE).fill(0, 0, 1);
  const otherSalt = Buffer.from(SALT).fill(0xff, 15);
  const cases: Array<[string, SignalTypeName, Uint8Array, Uint8Array, Uint8Array, string, string]> = [
    ["another value", "md5", expected, SALT, otherValue, "REVEAL_MISMATCH", "the reveal does not open the statement's commitment"],
    ["another salt", "md5", expected, otherSalt, MD5_EMPTY_FILE, "REVEAL_MISMATCH", "the reveal does not open the statement's commitment"],
    ["a short salt", "md5", expected, SALT.subarray(1), MD5_EMPTY_FILE, "REVEAL_SALT_BAD_LENGTH", "the salt of a reveal is 16 bytes, got 15"],
    ["an empty salt", "md5", expected, new Uint8Array(0), MD5_EMPTY_FILE, "REVEAL_SALT_BAD_LENGTH", "the salt of a reveal is 16 bytes, got 0"],
    ["a 32-byte md5 value", "md5", expected, SALT, new Uint8Array(32), "REVEAL_VALUE_BAD_LENGTH", "the value of a reveal is 16 bytes for md5, got 32"],
    ["a 16-byte pdq value", "pdq", expected, SALT, MD5_EMPTY_FILE, "REVEAL_VALUE_BAD_LENGTH", "the value of a reveal is 32 bytes for pdq, got 16"],
    ["a short commitment", "md5", expected.subarray(1), SALT, MD5_EMPTY_FILE, "COMMITMENT_BAD_LENGTH", "a commitment is 32 bytes, got 31"],
  ];

  test.each(cases)("rejects %s", (_description, name, commitmentBytes, salt, value, code, message) => {
    const error = thrown(() => checkReveal(name, commitmentBytes, salt, value));
    expect(error.kind).toBe("invalid");
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  test("rejects a reveal of the right bytes under another type", () => {
    const value = new Uint8Array(32).fill(7);
    const error = thrown(() => checkReveal("sha256", commitment("pdq", SALT, value), SALT, value));
    expect(error.code).toBe("REVEAL_MISMATCH");
  });
});
