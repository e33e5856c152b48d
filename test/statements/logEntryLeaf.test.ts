import { parseLogEntryBytes, parseLogEntryLeaf } from "../../src/statements";
import { thrown } from "../log/thrown";
import { federationFixture, StatementMaker } from "../support/statements";

/**
 * Goal: a leaf as served is parsed in place exactly when it is the canonical LogEntry encoding, the
 * bytes the tree hashes, and then means what the decoding parser says it means.
 * Method: canonical leaves of every statement kind against parseLogEntryBytes; then each way of
 * writing the same LogEntry differently.
 */

const fixture = federationFixture({ validatorCount: 2, label: "leaf" });
const maker = new StatementMaker(fixture.federation, "leaf");
const added = maker.add(fixture.validators[0]!.key, { signalType: "pdq" }).signed;
const statements = [added, maker.add(fixture.validators[1]!.key, { signalType: "md5" }).signed, maker.retract(fixture.validators[0]!.key, added.id).signed];

test("a canonical leaf parses in place to what the decoding parser gives", () => {
  for (const signed of statements) {
    const leaf = parseLogEntryLeaf(signed.entryBytes);
    const decoded = parseLogEntryBytes(signed.entryBytes);
    expect({ id: leaf.id, bytes: leaf.bytes, signature: leaf.signature, statement: leaf.statement, entryBytes: leaf.entryBytes }).toEqual(decoded);
    expect(leaf.entryBytes).toBe(signed.entryBytes);
  }
});

test("the same entry written any other way is not a leaf", () => {
  const { bytes, signature } = statements[0]!;
  const length = bytes.length;
  expect(length).toBeGreaterThan(127);
  const varint = Buffer.from([(length & 0x7f) | 0x80, length >> 7]);
  const variants: Array<[string, Buffer]> = [
    ["signature first", Buffer.concat([Buffer.from([0x12, 0x40]), signature, Buffer.from([0x0a]), varint, bytes])],
    ["a padded length", Buffer.concat([Buffer.from([0x0a]), Buffer.from([varint[0]!, varint[1]! | 0x80, 0x00]), bytes, Buffer.from([0x12, 0x40]), signature])],
    ["a byte after the signature", Buffer.concat([statements[0]!.entryBytes, Buffer.from([0])])],
    ["a short signature", Buffer.concat([Buffer.from([0x0a]), varint, bytes, Buffer.from([0x12, 0x3f]), signature.subarray(1)])],
    ["no signature", Buffer.concat([Buffer.from([0x0a]), varint, bytes])],
    ["nothing", Buffer.alloc(0)],
  ];
  for (const [name, leaf] of variants) {
    expect({ name, code: (thrown(() => parseLogEntryLeaf(leaf)) as { code: string }).code }).toEqual({ name, code: "ENTRY_MALFORMED" });
  }
});
