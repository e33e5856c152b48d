import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { DEFAULT_TAXONOMY } from "../../src/federation";
import { AddSignal, LogEntry, RetractReason, Statement } from "../../src/gen/hashfed/v1/statement";
import { commitment, SIGNAL_TYPE_NAMES, signalType } from "../../src/signals";
import {
  decodeStatement,
  encodeAddSignal,
  encodeRetract,
  parseLogEntryBytes,
  parseSignedStatement,
  parseStatementId,
  parseStoredLogEntry,
  type SignedStatement,
  signStatement,
  statementIdOf,
  trustedSignedStatement,
} from "../../src/statements";
import { described, hashfedError } from "../support/hashfedErrors";
import { federationFixture, LABEL, StatementMaker } from "../support/statements";

/**
 * Goal: a statement has exactly one byte string, its id is the SHA-256 of those bytes, and parsing
 * gives back what the builder put in; anything else is refused with a code saying why.
 * Method: a property round trip (build, sign, parse as a statement and as a Merkle leaf) over random
 * contents; named mutants of a canonical encoding, made by rearranging its top-level fields as raw
 * bytes; and a table of well-encoded statements whose shape breaks one rule each.
 */

const fixture = federationFixture();
const { federation } = fixture;
const alpha = fixture.validators[0]!;
const maker = new StatementMaker(federation, "encoding");

/** Every top-level field of an encoded message, as its raw bytes (tag, length and payload). */
function rawFields(bytes: Uint8Array): Buffer[] {
  const reader = new BinaryReader(bytes);
  const fields: Buffer[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skip(tag & 7);
    fields.push(Buffer.from(bytes.subarray(start, reader.pos)));
  }
  return fields;
}

const field = (build: (writer: BinaryWriter) => BinaryWriter): Buffer => Buffer.from(build(new BinaryWriter()).finish());

/** The canonical statement the mutants start from: fields 1, 2, 3, 4 and 10 (add_signal), in that order. */
const canonical = maker.add(alpha.key, { signalType: "md5" }).signed;
const [federationField, submitterField, createdAtField, nonceField, bodyField] = rawFields(canonical.bytes) as [Buffer, Buffer, Buffer, Buffer, Buffer];
const addSignalBody = (canonical.statement.body as { $case: "addSignal"; value: AddSignal }).value;

interface Mutant {
  readonly name: string;
  readonly bytes: Buffer;
  readonly code: "STATEMENT_NOT_CANONICAL" | "STATEMENT_MALFORMED";
}

const mutants: Mutant[] = [
  { name: "a field written twice (submitter)", bytes: Buffer.concat([federationField, submitterField, submitterField, createdAtField, nonceField, bodyField]), code: "STATEMENT_NOT_CANONICAL" },
  { name: "the body written twice", bytes: Buffer.concat([canonical.bytes, bodyField]), code: "STATEMENT_NOT_CANONICAL" },
  { name: "fields out of order (submitter before federation id)", bytes: Buffer.concat([submitterField, federationField, createdAtField, nonceField, bodyField]), code: "STATEMENT_NOT_CANONICAL" },
  { name: "fields out of order (body before nonce)", bytes: Buffer.concat([federationField, submitterField, createdAtField, bodyField, nonceField]), code: "STATEMENT_NOT_CANONICAL" },
  { name: "an unknown field appended", bytes: Buffer.concat([canonical.bytes, field((w) => w.uint32((15 << 3) | 0).uint32(1))]), code: "STATEMENT_NOT_CANONICAL" },
  {
    name: "an unknown field inside add_signal",
    bytes: Buffer.concat([
      federationField,
      submitterField,
      createdAtField,
      nonceField,
      field((w) => w.uint32((10 << 3) | 2).bytes(Buffer.concat([AddSignal.encode(addSignalBody).finish(), field((inner) => inner.uint32((6 << 3) | 0).uint32(7))]))),
    ]),
    code: "STATEMENT_NOT_CANONICAL",
  },
  { name: "a default value written out (created_at_ms = 0)", bytes: Buffer.concat([federationField, submitterField, field((w) => w.uint32((3 << 3) | 0).uint64(0n)), nonceField, bodyField]), code: "STATEMENT_NOT_CANONICAL" },
  {
    name: "a length written as a non-minimal varint",
    bytes: Buffer.concat([federationField, Buffer.from([0x12, 0x80 | canonical.statement.submitter.length, 0x00]), Buffer.from(canonical.statement.submitter), createdAtField, nonceField, bodyField]),
    code: "STATEMENT_NOT_CANONICAL",
  },
  {
    name: "a submitter that is not valid UTF-8",
    bytes: Buffer.concat([federationField, field((w) => w.uint32((2 << 3) | 2).bytes(Buffer.concat([Buffer.from(canonical.statement.submitter), Buffer.from([0xff])]))), createdAtField, nonceField, bodyField]),
    code: "STATEMENT_NOT_CANONICAL",
  },
  { name: "a known field with the wrong wire type", bytes: Buffer.concat([field((w) => w.uint32((1 << 3) | 0).uint32(5)), federationField, submitterField, createdAtField, nonceField, bodyField]), code: "STATEMENT_NOT_CANONICAL" },
  { name: "a trailing zero byte", bytes: Buffer.concat([canonical.bytes, Buffer.from([0x00])]), code: "STATEMENT_NOT_CANONICAL" },
  { name: "trailing garbage: a field whose length runs past the end", bytes: Buffer.concat([canonical.bytes, Buffer.from([0x12, 0x05, 0x61])]), code: "STATEMENT_MALFORMED" },
  { name: "the last byte cut off", bytes: canonical.bytes.subarray(0, canonical.bytes.length - 1), code: "STATEMENT_MALFORMED" },
];

describe("statement round trip", () => {
  const labelSets = fc.subarray([...DEFAULT_TAXONOMY.labels], { minLength: 1 });
  const addContent = fc.record({
    type: fc.constantFrom(...SIGNAL_TYPE_NAMES),
    labels: labelSets.chain((labels) => fc.shuffledSubarray(labels, { minLength: labels.length, maxLength: labels.length })),
    quality: fc.integer({ min: 0, max: 100 }),
    createdAtMs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    nonce: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    salt: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    valueSeed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    submitter: fc.constantFrom(alpha, fixture.observer),
  });

  test("an AddSignal parses back to what was built, as a statement, as a Merkle leaf, and as a stored (trusted) one", () => {
    fc.assert(
      fc.property(addContent, (content) => {
        const value = Buffer.from(content.valueSeed.subarray(0, signalType(content.type).valueBytes));
        const context = { federationId: federation.id, submitter: content.submitter.name, createdAtMs: content.createdAtMs, nonce: Buffer.from(content.nonce) };
        const bytes = encodeAddSignal(context, {
          signalType: content.type,
          value,
          labels: content.labels,
          taxonomyVersion: 1,
          quality: content.quality,
          salt: Buffer.from(content.salt),
        });
        const signed = signStatement(content.submitter.signer, bytes);
        expect(signed.statement).toEqual({
          ...context,
          body: {
            $case: "addSignal",
            value: {
              signalType: content.type,
              commitment: commitment(content.type, content.salt, value),
              labels: [...content.labels].sort(),
              taxonomyVersion: 1,
              quality: content.type === "pdq" ? content.quality : 0,
            },
          },
        });
        expectSameSigned(parseSignedStatement(signed.bytes, signed.signature), signed);
        expectSameSigned(parseLogEntryBytes(signed.entryBytes), signed);
        expectSameSigned(parseStoredLogEntry(signed.entryBytes), signed);
        expectSameSigned(trustedSignedStatement(signed.bytes, signed.signature), signed);
      }),
      { numRuns: 100 },
    );
  });

  test.each(
    Object.values(RetractReason)
      .filter((reason): reason is RetractReason => typeof reason === "number" && reason > 0)
      .map((reason) => [RetractReason[reason], reason] as const),
  )("a retraction with reason %s parses back to what was built", (_, reason) => {
    const target = statementIdOf(Buffer.from("some statement"));
    const context = maker.context(alpha.name);
    const signed = signStatement(alpha.signer, encodeRetract(context, target, reason));
    expect(signed.statement).toEqual({ ...context, body: { $case: "retract", value: { target, reason } } });
    expectSameSigned(parseLogEntryBytes(signed.entryBytes), signed);
  });

  test("the Merkle leaf is the encoded LogEntry of the exact statement bytes and signature", () => {
    const { signed } = maker.add(alpha.key);
    expect(LogEntry.decode(signed.entryBytes)).toEqual({ statement: signed.bytes, signature: signed.signature });
    expect(signed.entryBytes).toEqual(Buffer.from(LogEntry.encode({ statement: signed.bytes, signature: signed.signature }).finish()));
  });

  test("the same content with a different nonce is a different statement", () => {
    const context = maker.context(alpha.name);
    const draft = { signalType: "sha256" as const, value: Buffer.alloc(32, 7), labels: [LABEL], taxonomyVersion: 1, quality: 0, salt: Buffer.alloc(16, 1) };
    const first = encodeAddSignal(context, draft);
    const second = encodeAddSignal({ ...context, nonce: Buffer.alloc(16, 9) }, draft);
    expect(statementIdOf(first)).not.toEqual(statementIdOf(second));
    expect(encodeAddSignal(context, draft)).toEqual(first);
  });
});

/** Byte fields are compared as hex text, which jest compares far faster than Buffers. */
function expectSameSigned(actual: SignedStatement, expected: SignedStatement): void {
  const text = (signed: SignedStatement) => [signed.id, signed.bytes, signed.signature, signed.entryBytes].map((bytes) => bytes.toString("hex"));
  expect(text(actual)).toEqual(text(expected));
  expect(Statement.encode(actual.statement).finish()).toEqual(Statement.encode(expected.statement).finish());
}

describe("statement id", () => {
  test("is the SHA-256 of the exact statement bytes", () => {
    fc.assert(
      fc.property(fc.constantFrom("md5", "sha256", "pdq" as const), (type) => {
        const { signed } = maker.add(alpha.key, { signalType: type });
        expect(signed.id).toEqual(createHash("sha256").update(signed.bytes).digest());
      }),
      { numRuns: 10 },
    );
  });

  test("parses from 64 hex characters of either case and from 32 raw bytes", () => {
    const id = statementIdOf(Buffer.from("x"));
    expect(parseStatementId(id.toString("hex"))).toEqual(id);
    expect(parseStatementId(id.toString("hex").toUpperCase())).toEqual(id);
    expect(parseStatementId(new Uint8Array(id))).toEqual(id);
  });

  test.each([
    ["63 hex characters", "a".repeat(63), "must be 64 hex characters"],
    ["65 hex characters", "a".repeat(65), "must be 64 hex characters"],
    ["a non-hex character", `${"a".repeat(63)}g`, "must be 64 hex characters"],
    ["a 0x prefix", `0x${"a".repeat(64)}`, "must be 64 hex characters"],
    ["31 raw bytes", new Uint8Array(31), "must be 32 bytes, got 31"],
    ["33 raw bytes", new Uint8Array(33), "must be 32 bytes, got 33"],
    ["no bytes", new Uint8Array(0), "must be 32 bytes, got 0"],
  ] as const)("refuses %s, naming the field", (_, input, phrase) => {
    expect(described(hashfedError(() => parseStatementId(input, "target")))).toEqual({
      kind: "invalid",
      code: "STATEMENT_ID_MALFORMED",
      message: expect.stringMatching(new RegExp(`^target ${phrase}`)),
    });
  });
});

describe("decodeStatement refuses a non-canonical encoding", () => {
  test("the mutants start from fields that reassemble into the canonical bytes", () => {
    expect(Buffer.concat([federationField, submitterField, createdAtField, nonceField, bodyField])).toEqual(canonical.bytes);
    expect(decodeStatement(canonical.bytes)).toEqual(canonical.statement);
  });

  test.each(mutants.map((mutant) => [mutant.name, mutant] as const))("%s", (_, mutant) => {
    expect(mutant.bytes).not.toEqual(canonical.bytes);
    const error = hashfedError(() => decodeStatement(mutant.bytes));
    expect({ kind: error.kind, code: error.code }).toEqual({ kind: "invalid", code: mutant.code });
    // The same bytes arriving as a Merkle leaf are refused the same way.
    const leaf = LogEntry.encode({ statement: mutant.bytes, signature: canonical.signature }).finish();
    expect(hashfedError(() => parseLogEntryBytes(leaf)).code).toBe(mutant.code);
  });

  test("a leaf that is not a LogEntry is ENTRY_MALFORMED", () => {
    const error = hashfedError(() => parseLogEntryBytes(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])));
    expect({ kind: error.kind, code: error.code }).toEqual({ kind: "invalid", code: "ENTRY_MALFORMED" });
  });

  test.each([0, 63, 65])("a signature of %d bytes is SIGNATURE_MALFORMED", (length) => {
    expect(described(hashfedError(() => parseSignedStatement(canonical.bytes, new Uint8Array(length))))).toEqual({
      kind: "invalid",
      code: "SIGNATURE_MALFORMED",
      message: `a statement signature is 64 bytes, got ${length}`,
    });
  });
});

describe("decodeStatement refuses a malformed shape", () => {
  const base = (): Statement => ({
    federationId: federation.id,
    submitter: alpha.name,
    createdAtMs: 1n,
    nonce: Buffer.alloc(16, 3),
    body: { $case: "addSignal", value: { signalType: "sha256", commitment: Buffer.alloc(32, 4), labels: ["glorification", "graphic-violence"], taxonomyVersion: 1, quality: 0 } },
  });
  const addSignal = (change: Partial<AddSignal>): Statement => {
    const statement = base();
    const body = statement.body as { $case: "addSignal"; value: AddSignal };
    return { ...statement, body: { $case: "addSignal", value: { ...body.value, ...change } } };
  };
  const retract = (target: Buffer, reason: RetractReason): Statement => ({ ...base(), body: { $case: "retract", value: { target, reason } } });
  const target = Buffer.alloc(32, 5);

  test.each([
    ["an AddSignal", base()],
    ["quality 100", addSignal({ quality: 100 })],
    ["a single label", addSignal({ labels: [LABEL] })],
    ["a retraction", retract(target, RetractReason.RETRACT_REASON_OTHER)],
  ])("accepts a well-formed statement: %s", (_, statement) => {
    expect(decodeStatement(Statement.encode(statement).finish())).toEqual(statement);
  });

  test.each([
    ["a federation id of 31 bytes", { ...base(), federationId: Buffer.alloc(31) }, "federation_id must be 32 bytes, got 31"],
    ["no federation id", { ...base(), federationId: Buffer.alloc(0) }, "federation_id must be 32 bytes, got 0"],
    ["no submitter", { ...base(), submitter: "" }, "submitter must be 1 to 253"],
    ["a submitter of 254 characters", { ...base(), submitter: "a".repeat(254) }, "submitter must be 1 to 253"],
    ["a nonce of 15 bytes", { ...base(), nonce: Buffer.alloc(15, 1) }, "nonce must be 16 bytes, got 15"],
    ["a nonce of 17 bytes", { ...base(), nonce: Buffer.alloc(17, 1) }, "nonce must be 16 bytes, got 17"],
    ["no body", { ...base(), body: undefined }, "no body"],
    ["a commitment of 31 bytes", addSignal({ commitment: Buffer.alloc(31, 1) }), "commitment must be 32 bytes, got 31"],
    ["no commitment", addSignal({ commitment: Buffer.alloc(0) }), "commitment must be 32 bytes, got 0"],
    ["unsorted labels", addSignal({ labels: ["graphic-violence", "glorification"] }), "labels must be sorted and without duplicates"],
    ["a duplicate label", addSignal({ labels: ["glorification", "glorification"] }), "labels must be sorted and without duplicates"],
    ["quality 101", addSignal({ quality: 101 }), "quality must be 0..100, got 101"],
    ["a retraction target of 31 bytes", retract(Buffer.alloc(31), RetractReason.RETRACT_REASON_OTHER), "32-byte statement id, got 31 bytes"],
    ["a retraction with no target", retract(Buffer.alloc(0), RetractReason.RETRACT_REASON_OTHER), "32-byte statement id, got 0 bytes"],
    ["an unspecified retraction reason", retract(target, RetractReason.RETRACT_REASON_UNSPECIFIED), "retract reason must be one of"],
    ["an unknown retraction reason (6)", retract(target, 6 as RetractReason), "retract reason must be one of"],
  ] as const)("%s", (_, statement, phrase) => {
    const error = hashfedError(() => decodeStatement(Statement.encode(statement).finish()));
    expect(described(error)).toEqual({ kind: "invalid", code: "STATEMENT_MALFORMED", message: expect.stringContaining(phrase) });
  });

  // Once a bug: the reasons allowed included ts-proto's UNRECOGNIZED (-1), so a retraction with no real
  // reason could reach the log.
  test("an UNRECOGNIZED (-1) retraction reason", () => {
    const error = hashfedError(() => decodeStatement(Statement.encode(retract(target, RetractReason.UNRECOGNIZED)).finish()));
    expect(described(error)).toEqual({ kind: "invalid", code: "STATEMENT_MALFORMED", message: expect.stringContaining("retract reason must be one of") });
  });
});
