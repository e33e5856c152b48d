import fc from "fast-check";
import { AddSignal, Retract, Statement } from "../../src/gen/hashfed/v1/statement";
import { decodeCanonicalStatement } from "../../src/statements/canonicalStatement";
import { hashfedError } from "../support/hashfedErrors";

/**
 * Goal: the one-pass decoder accepts exactly the canonical encodings, the bytes the generated encoder
 * writes, and decodes them to what the generated decoder gives; what it refuses gets the code the
 * definition gives.
 * Method: a differential test against that definition (decode with the generated code, encode again,
 * compare) over encodings of arbitrary statements, including the odd ones the shape check refuses
 * later (empty strings, negative reasons, a leading U+FEFF), then over mutants of them (a byte
 * changed, inserted, removed, a varint padded, a piece repeated, cut short) and over arbitrary bytes.
 */

type Outcome = { readonly accepted: Statement } | { readonly refused: string };

/** The definition of canonical: bytes that decode, and encode back to themselves. */
function byDefinition(bytes: Buffer): Outcome {
  let statement: Statement;
  try {
    statement = Statement.decode(bytes);
  } catch {
    return { refused: "STATEMENT_MALFORMED" };
  }
  return Buffer.from(Statement.encode(statement).finish()).equals(bytes) ? { accepted: statement } : { refused: "STATEMENT_NOT_CANONICAL" };
}

function byDecoder(bytes: Buffer): Outcome {
  try {
    return { accepted: decodeCanonicalStatement(bytes) };
  } catch {
    return { refused: hashfedError(() => decodeCanonicalStatement(bytes)).code };
  }
}

// Some long enough that their lengths take two varint bytes, and some beyond ASCII.
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.string({ unit: "grapheme", minLength: 30, maxLength: 80 }),
  fc.constantFrom("", "\ufeffbom", "graphic-violence"),
);
const bytes = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.oneof(fc.uint8Array({ maxLength }), fc.uint8Array({ minLength: 120, maxLength: 200 })).map((array) => Buffer.from(array));
const uint32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32 - 1), fc.nat());

const addSignal: fc.Arbitrary<AddSignal> = fc.record({
  signalType: text,
  commitment: bytes(40),
  labels: fc.array(text, { maxLength: 4 }),
  taxonomyVersion: uint32,
  quality: uint32,
});
const retract: fc.Arbitrary<Retract> = fc.record({
  target: bytes(40),
  reason: fc.oneof(fc.constantFrom(0, 1, 5, -1, 2 ** 31 - 1, -(2 ** 31)), fc.integer()),
});
const statement: fc.Arbitrary<Statement> = fc.record({
  federationId: bytes(40),
  submitter: text,
  createdAtMs: fc.oneof(fc.constantFrom(0n, 1n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  nonce: bytes(20),
  body: fc.oneof(
    fc.constant(undefined),
    addSignal.map((value) => ({ $case: "addSignal" as const, value })),
    retract.map((value) => ({ $case: "retract" as const, value })),
  ),
});
const encoded = statement.map((value) => Buffer.from(Statement.encode(value).finish()));

/** The encoding with one change a careless or hostile encoder might make. */
const mutant = fc.tuple(encoded, fc.nat(), fc.nat({ max: 255 }), fc.nat({ max: 5 })).map(([original, at, byte, kind]) => {
  const position = original.length === 0 ? 0 : at % original.length;
  switch (kind) {
    case 0:
      return Buffer.concat([original.subarray(0, position), Buffer.from([byte]), original.subarray(position + 1)]);
    case 1:
      return Buffer.concat([original.subarray(0, position), Buffer.from([byte]), original.subarray(position)]);
    case 2:
      return Buffer.concat([original.subarray(0, position), original.subarray(position + 1)]);
    case 3:
      return Buffer.concat([original, original.subarray(position)]);
    case 4:
      // Where this byte ends a varint, the same value with one byte of padding.
      return Buffer.concat([original.subarray(0, position), Buffer.from([original[position]! | 0x80, 0x00]), original.subarray(position + 1)]);
    default:
      return original.subarray(0, position);
  }
});

describe("decodeCanonicalStatement agrees with decode, encode again, compare", () => {
  test("every encoding the generated encoder writes is accepted, decoded to the same statement", () => {
    fc.assert(
      fc.property(statement, (value) => {
        const outcome = byDecoder(Buffer.from(Statement.encode(value).finish()));
        expect(outcome).toEqual({ accepted: value });
      }),
      { numRuns: 2000 },
    );
  });

  test("mutants of those encodings: the same verdict and code", () => {
    fc.assert(
      fc.property(mutant, (bytes) => {
        expect(byDecoder(bytes)).toEqual(byDefinition(bytes));
      }),
      { numRuns: 6000 },
    );
  });

  test("arbitrary bytes: the same verdict and code", () => {
    fc.assert(
      fc.property(bytes(24), (input) => {
        expect(byDecoder(input)).toEqual(byDefinition(input));
      }),
      { numRuns: 6000 },
    );
  });

  test.each([
    ["a padded varint in created_at_ms", "0a0141 18 8100", "created_at_ms is written as a padded varint"],
    ["a string that is not UTF-8", "12 02 c328", "submitter is not valid UTF-8"],
    ["an empty bytes field", "0a 00", "federation_id is written with its default value (empty)"],
    ["a field after the body", "52 00 12 0161", "statement has more after its last field in order"],
    ["an unknown field inside retract", "5a 02 3001", "retract has more after its last field in order"],
  ])("names what is wrong: %s", (_, hex, phrase) => {
    const error = hashfedError(() => decodeCanonicalStatement(Buffer.from(hex.replace(/ /g, ""), "hex")));
    expect(error.code).toBe("STATEMENT_NOT_CANONICAL");
    expect(error.message).toContain(phrase);
  });

  test("bytes fields are views of the input, not copies", () => {
    const input = Buffer.from(Statement.encode({ federationId: Buffer.alloc(32, 7), submitter: "a", createdAtMs: 1n, nonce: Buffer.alloc(16, 1), body: undefined }).finish());
    const decoded = decodeCanonicalStatement(input);
    expect(decoded.federationId.buffer).toBe(input.buffer);
  });
});
