import { BinaryReader } from "@bufbuild/protobuf/wire";
import { assembleBatch, type AssembledBatch, type BatchEntry, buildBatch, type ChainHead, checkBatch, genesisHead } from "../../src/batch";
import { KeySigner } from "../../src/crypto";
import { type Batch, BatchHeader } from "../../src/gen/hashfed/v1/batch";
import { LogState } from "../../src/state/logState";
import { parseSignedStatement, type SignedStatement } from "../../src/statements";
import { described, hashfedError } from "../support/hashfedErrors";
import { EMPTY_REVEAL, federationFixture, idsOf, StatementMaker, wireBatch } from "../support/statements";

/**
 * Goal: valid(v) accepts exactly the batches an honest proposer builds on this node's head, and
 * refuses any other with a code that says what is wrong, so a validator never votes for a batch it
 * could not commit.
 * Method: an honest batch at height 2 (every signal type and a retraction of a committed entry) in
 * its wire form, then one mutant per rule: of the entries and reveals (re-assembled, so that only the
 * rule under test is broken) and of the header (decoded, changed in one field, re-encoded).
 */

const BATCH_ENTRIES_MAX = 4;
const fixture = federationFixture({ parameters: { batchEntriesMax: BATCH_ENTRIES_MAX } });
const { federation } = fixture;
const alpha = fixture.validators[0]!.key;
const observer = fixture.observer.key;
const maker = new StatementMaker(federation, "check-batch");
const meta = { proposer: fixture.validators[0]!.name, proposerTimeMs: 1_700_000_000_000n };
const noneVerified = () => false;

// Height 1, committed: three AddSignals.
const committedEntries = [maker.add(alpha), maker.add(observer), maker.add(alpha, { signalType: "md5" })];
const state = new LogState();
const first = buildBatch(federation, state, genesisHead(), committedEntries, meta).batch!;
for (const { signed } of first.entries) state.append(signed);
const head: ChainHead = { height: first.header.height, headerHash: first.id, range: first.range };

// Height 2, proposed: every signal type, and a retraction of a committed entry.
const proposedEntries: BatchEntry[] = [
  maker.add(observer, { signalType: "md5" }),
  maker.add(alpha, { signalType: "pdq" }),
  maker.retract(alpha, committedEntries[0]!.signed.id),
  maker.add(alpha, { signalType: "sha256" }),
];
const proposed = buildBatch(federation, state, head, proposedEntries, meta).batch!;
const wire = wireBatch(proposed);

/** The wire form of a batch of `entries` assembled honestly on `head`: only the entries are wrong. */
const assembledWire = (entries: readonly BatchEntry[], on: ChainHead = head): Batch => wireBatch(assembleBatch(federation, on, entries, meta));
const withHeader = (change: (header: BatchHeader) => BatchHeader, batch: Batch = wire): Batch => ({
  ...batch,
  header: Buffer.from(BatchHeader.encode(change(BatchHeader.decode(batch.header))).finish()),
});
const refusal = (batch: Batch, verified: (signed: SignedStatement) => boolean = noneVerified) =>
  described(hashfedError(() => checkBatch(federation, state, head, batch, verified)));
const flipped = (bytes: Uint8Array, at = 0): Buffer => {
  const copy = Buffer.from(bytes);
  copy[at]! ^= 1;
  return copy;
};

function expectSameBatch(actual: AssembledBatch, expected: AssembledBatch): void {
  expect(actual.id).toEqual(expected.id);
  expect(actual.headerBytes).toEqual(expected.headerBytes);
  expect(idsOf(actual.entries)).toEqual(idsOf(expected.entries));
  expect(actual.entries.map(({ reveal }) => reveal)).toEqual(expected.entries.map(({ reveal }) => reveal));
  expect(actual.nodeWrites).toEqual(expected.nodeWrites);
  expect(actual.checkpointBody).toBe(expected.checkpointBody);
}

describe("checkBatch accepts", () => {
  test("the batch buildBatch made, in its wire form, with an empty reveal for the retraction and exactly batchEntriesMax entries", () => {
    expect(wire.reveals[2]).toEqual(EMPTY_REVEAL);
    expect(wire.entries).toHaveLength(BATCH_ENTRIES_MAX);
    expectSameBatch(checkBatch(federation, state, head, wire, noneVerified), proposed);
    expect(state.size).toBe(3);
  });

  test("the first batch, on the genesis head", () => {
    expectSameBatch(checkBatch(federation, new LogState(), genesisHead(), wireBatch(first), noneVerified), first);
  });

  test("asks signatureVerified about each entry, in order", () => {
    const asked: string[] = [];
    checkBatch(federation, state, head, wire, (signed) => {
      asked.push(signed.id.toString("hex"));
      return true;
    });
    expect(asked).toEqual(idsOf(proposedEntries));
  });
});

describe("checkBatch refuses", () => {
  test("an empty batch", () => {
    expect(refusal({ header: wire.header, entries: [], reveals: [] })).toEqual({ kind: "invalid", code: "BATCH_EMPTY", message: "a batch holds at least one entry" });
  });

  test("more entries than batchEntriesMax", () => {
    const tooMany = assembledWire([...proposedEntries, maker.add(alpha)]);
    expect(refusal(tooMany)).toEqual({ kind: "invalid", code: "BATCH_TOO_LARGE", message: "a batch holds at most 4 entries, got 5" });
  });

  test.each([
    ["one reveal too few", wire.reveals.slice(1), "4 entries, 3 reveals"],
    ["one reveal too many", [...wire.reveals, EMPTY_REVEAL], "4 entries, 5 reveals"],
    ["no reveals", [], "4 entries, 0 reveals"],
  ])("%s", (_, reveals, phrase) => {
    expect(refusal({ ...wire, reveals })).toEqual({ kind: "invalid", code: "BATCH_MALFORMED", message: expect.stringContaining(phrase) });
  });

  describe("a bad signature", () => {
    const honest = proposedEntries[1]!;
    const badSignature = { ...honest, signed: parseSignedStatement(honest.signed.bytes, flipped(honest.signed.signature, 10)) };
    const forged = { ...honest, signed: parseSignedStatement(honest.signed.bytes, new KeySigner(fixture.forger).sign("statement", honest.signed.bytes)) };

    test.each([
      ["a flipped bit", badSignature],
      ["a forger's key with the member's name", forged],
    ])("refuses an entry signed with %s", (_, entry) => {
      const batch = assembledWire([proposedEntries[0]!, entry, proposedEntries[2]!]);
      expect(refusal(batch)).toEqual({ kind: "unauthenticated", code: "SIGNATURE_INVALID", message: expect.stringContaining("alpha.example") });
    });

    test("but accepts it when signatureVerified says it was checked at gossip time", () => {
      const batch = assembledWire([proposedEntries[0]!, badSignature, proposedEntries[2]!]);
      const checked = checkBatch(federation, state, head, batch, (signed) => signed.id.equals(badSignature.signed.id));
      expect(checked.entries[1]!.signed.signature).toEqual(badSignature.signed.signature);
    });

    test("and when admittedWith says the entry passed every statement check with this reveal; the log's rules still hold", () => {
      const batch = assembledWire([proposedEntries[0]!, badSignature, proposedEntries[2]!]);
      const asked: unknown[] = [];
      const admitted = (signed: SignedStatement, reveal: unknown) => {
        asked.push(reveal);
        return signed.id.equals(badSignature.signed.id);
      };
      const parse = (logEntry: { statement: Uint8Array; signature: Uint8Array }) => parseSignedStatement(logEntry.statement, logEntry.signature);
      expect(checkBatch(federation, state, head, batch, noneVerified, parse, admitted).entries[1]!.signed.signature).toEqual(badSignature.signed.signature);
      expect(asked).toEqual(batch.reveals);
      const twice = assembledWire([badSignature, badSignature]);
      expect(described(hashfedError(() => checkBatch(federation, state, head, twice, noneVerified, parse, admitted)))).toMatchObject({ code: "STATEMENT_DUPLICATE" });
    });
  });

  test.each([
    ["a reveal whose value does not open its commitment", 0, (): typeof EMPTY_REVEAL => ({ salt: wire.reveals[0]!.salt, value: flipped(wire.reveals[0]!.value) }), "REVEAL_MISMATCH"],
    ["a reveal whose salt does not open its commitment", 1, (): typeof EMPTY_REVEAL => ({ salt: flipped(wire.reveals[1]!.salt), value: wire.reveals[1]!.value }), "REVEAL_MISMATCH"],
    ["another entry's reveal", 3, (): typeof EMPTY_REVEAL => wire.reveals[1]!, "REVEAL_MISMATCH"],
    ["an empty reveal for an AddSignal", 0, (): typeof EMPTY_REVEAL => EMPTY_REVEAL, "SIGNAL_VALUE_BAD_LENGTH"],
    ["a reveal beside a retraction", 2, (): typeof EMPTY_REVEAL => wire.reveals[0]!, "REVEAL_UNEXPECTED"],
  ] as const)("%s", (_, position, reveal, code) => {
    const reveals = [...wire.reveals];
    reveals[position] = reveal();
    expect(refusal({ ...wire, reveals })).toMatchObject({ kind: "invalid", code });
  });

  test.each([
    ["a statement twice in the batch", () => [proposedEntries[0]!, proposedEntries[0]!], "exists", "STATEMENT_DUPLICATE"],
    ["a statement already on the log", () => [proposedEntries[0]!, committedEntries[1]!], "exists", "STATEMENT_DUPLICATE"],
    ["a retraction of another member's entry", () => [maker.retract(observer, committedEntries[0]!.signed.id)], "forbidden", "RETRACT_NOT_OWNER"],
    ["a retraction of an unknown entry", () => [maker.retract(alpha, proposedEntries[0]!.signed.id)], "not-found", "RETRACT_TARGET_UNKNOWN"],
    ["a retraction twice", () => [proposedEntries[2]!, maker.retract(alpha, committedEntries[0]!.signed.id)], "precondition", "RETRACT_TWICE"],
    ["a statement by a non-member", () => [maker.add(fixture.outsider)], "forbidden", "NOT_A_MEMBER"],
    ["a statement for another federation", () => [maker.add(alpha, { context: { federationId: Buffer.alloc(32, 7) } })], "invalid", "FEDERATION_MISMATCH"],
    ["an unknown label", () => [maker.add(alpha, { labels: ["gore"] })], "invalid", "LABEL_UNKNOWN"],
  ] as const)("%s", (_, entries, kind, code) => {
    expect(refusal(assembledWire(entries()))).toMatchObject({ kind, code });
  });

  test("statement bytes that are not canonical", () => {
    const entries = wire.entries.map((entry, position) => (position === 0 ? { ...entry, statement: Buffer.concat([entry.statement, Buffer.from([0x78, 0x01])]) } : entry));
    expect(refusal({ ...wire, entries })).toMatchObject({ kind: "invalid", code: "STATEMENT_NOT_CANONICAL" });
  });

  test.each([
    ["a wrong height", (header: BatchHeader) => ({ ...header, height: header.height + 1n }), "height"],
    ["height 1 again", (header: BatchHeader) => ({ ...header, height: 1n }), "height"],
    ["a wrong previous hash", (header: BatchHeader) => ({ ...header, previousHeaderHash: flipped(header.previousHeaderHash) }), "previousHeaderHash"],
    ["the genesis previous hash", (header: BatchHeader) => ({ ...header, previousHeaderHash: Buffer.alloc(32) }), "previousHeaderHash"],
    ["a wrong root", (header: BatchHeader) => ({ ...header, root: flipped(header.root, 31) }), "root"],
    ["a wrong tree size", (header: BatchHeader) => ({ ...header, treeSize: header.treeSize - 1n }), "treeSize"],
    ["a wrong reveals digest", (header: BatchHeader) => ({ ...header, revealsDigest: flipped(header.revealsDigest) }), "revealsDigest"],
    ["a wrong entry count", (header: BatchHeader) => ({ ...header, entryCount: header.entryCount - 1 }), "entryCount"],
    ["another federation's id", (header: BatchHeader) => ({ ...header, federationId: Buffer.alloc(32, 1) }), "federationId"],
    ["the root and size of the log before the batch", (header: BatchHeader) => ({ ...header, root: first.header.root, treeSize: first.header.treeSize }), "treeSize, root"],
  ])("a header with %s", (_, change, fields) => {
    expect(refusal(withHeader(change))).toEqual({
      kind: "invalid",
      code: "BATCH_HEADER_MISMATCH",
      message: `the batch header does not match its entries and the log this node holds (differs in: ${fields})`,
    });
  });

  test.each([
    ["an observer", () => fixture.observer.name],
    ["a name no member has, padded to fill a proposal", () => "x".repeat(60_000)],
  ])("a header naming %s as its proposer", (_, proposer) => {
    expect(refusal(withHeader((header) => ({ ...header, proposer: proposer() })))).toMatchObject({ kind: "invalid", code: "BATCH_PROPOSER_UNKNOWN" });
  });

  test("entries in another order than the header's", () => {
    const entries = [wire.entries[1]!, wire.entries[0]!, ...wire.entries.slice(2)];
    const reveals = [wire.reveals[1]!, wire.reveals[0]!, ...wire.reveals.slice(2)];
    expect(refusal({ ...wire, entries, reveals })).toMatchObject({ code: "BATCH_HEADER_MISMATCH", message: expect.stringContaining("root, revealsDigest") });
  });

  test("tampered header bytes that decode to the same header (an unknown field appended)", () => {
    const tampered = { ...wire, header: Buffer.concat([wire.header, Buffer.from([0x78, 0x01])]) };
    expect(BatchHeader.decode(tampered.header)).toEqual(BatchHeader.decode(wire.header));
    expect(refusal(tampered)).toMatchObject({ code: "BATCH_HEADER_MISMATCH", message: expect.stringContaining("(differs in: encoding)") });
  });

  // The proposer's name and clock (fields 7 and 8) are not derived from the entries: checkBatch takes
  // them as the header gives them, and a flipped bit there is a different, equally valid value.
  test("tampered header bytes with one bit flipped anywhere but the proposer's name and time", () => {
    const outcomes: string[] = [];
    const reader = new BinaryReader(wire.header);
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const tag = reader.uint32();
      reader.skip(tag & 7);
      if (tag >>> 3 === 7 || tag >>> 3 === 8) continue;
      for (let position = start; position < reader.pos; position++) {
        try {
          checkBatch(federation, state, head, { ...wire, header: flipped(wire.header, position) }, noneVerified);
          outcomes.push(`field ${tag >>> 3} byte ${position}: accepted`);
        } catch (error) {
          if (!/^BATCH_(HEADER_MISMATCH|MALFORMED|PROPOSER_UNKNOWN)$/.test((error as { code?: string }).code ?? "")) outcomes.push(`field ${tag >>> 3} byte ${position}: ${String(error)}`);
        }
      }
    }
    expect(outcomes).toEqual([]);
  });

  test("header bytes that are not a BatchHeader", () => {
    expect(refusal({ ...wire, header: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]) })).toMatchObject({ kind: "invalid", code: "BATCH_MALFORMED" });
  });

  test("an honest batch checked against another head (it was built for the one before)", () => {
    const stale = assembledWire(proposedEntries.slice(0, 2), genesisHead());
    expect(refusal(stale)).toMatchObject({ code: "BATCH_HEADER_MISMATCH", message: expect.stringContaining("height, previousHeaderHash, treeSize, root") });
  });
});
