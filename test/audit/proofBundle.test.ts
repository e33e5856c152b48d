import { type BundleEntry, formatProofBundle, parseProofBundle, type ProofBundle, verifyProofBundle } from "../../src/audit";
import type { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { hashLeaf } from "../../src/log";
import type { SignedStatement } from "../../src/statements";
import { flipBit } from "../crypto/testBytes";
import { ReferenceTree } from "../log/referenceTree";
import { thrown } from "../log/thrown";
import { cosign } from "../support/fakeLogNode";
import { StatementMaker } from "../support/statements";
import { alpha, bravo, charlie, delta, fixture, withBadSignature } from "./auditRounds";

/**
 * Goal: a proof bundle (C2SP tlog-proof carrying the entry and, optionally, its reveal) shows
 * offline, with the federation file alone, that a member's signed statement is on the log under a
 * quorum-cosigned checkpoint, and with the reveal which hash it is about; any part changed, or a
 * reveal of another value, and it shows nothing.
 * Method: bundles of a 7-entry log built with the fixture's keys, formatted, parsed and verified,
 * then broken one part at a time.
 */

const maker = new StatementMaker(fixture.federation, "bundle");
const added = [alpha, bravo, charlie, delta, alpha, bravo].map((member) => maker.add(member.key, { signalType: "pdq" }));
const retraction = maker.retract(alpha.key, added[0]!.signed.id).signed;
const statements = [...added.map((entry) => entry.signed), retraction];
const tree = new ReferenceTree(statements.map((signed) => hashLeaf(signed.entryBytes)));
const checkpoint = cosign(fixture, statements.length, tree.hash(0, statements.length), [alpha, bravo, charlie]);

const entryOf = (signed: SignedStatement): LogEntry => ({ statement: signed.bytes, signature: signed.signature });

function bundleFor(index: number, entry: BundleEntry = { entry: entryOf(statements[index]!) }): ProofBundle {
  return { index: BigInt(index), hashes: tree.path(index, 0, statements.length), checkpoint, entry };
}

test("a bundle with its reveal is a tlog-proof that verifies offline and discloses exactly the hash it commits to", () => {
  const text = formatProofBundle(bundleFor(2, { entry: entryOf(added[2]!.signed), reveal: added[2]!.reveal }));
  const lines = text.split("\n");
  expect(lines[0]).toBe("c2sp.org/tlog-proof@v1");
  expect(lines[1]).toMatch(/^extra [A-Za-z0-9+/]+=*$/);
  expect(lines[2]).toBe("index 2");
  expect(lines.slice(3, 6).every((line) => Buffer.from(line, "base64").length === 32)).toBe(true);
  expect(lines[6]).toBe("");
  expect(text.endsWith(checkpoint)).toBe(true);
  const verified = verifyProofBundle(fixture.federation, parseProofBundle(text));
  expect(verified).toMatchObject({ index: 2n, submitter: { name: "charlie.example" }, reveal: added[2]!.reveal });
  expect(verified.statement.id).toEqual(added[2]!.signed.id);
  expect(verified.checkpoint.signers).toEqual(["alpha.example", "bravo.example", "charlie.example"]);
});

test("a bundle of a retraction, and of an addition without its reveal, verify too", () => {
  expect(verifyProofBundle(fixture.federation, parseProofBundle(formatProofBundle(bundleFor(6)))).statement.statement.body?.$case).toBe("retract");
  expect(verifyProofBundle(fixture.federation, parseProofBundle(formatProofBundle(bundleFor(4)))).reveal).toBeUndefined();
});

test("a bundle with any part changed proves nothing, and says which part failed", () => {
  const good = bundleFor(2, { entry: entryOf(added[2]!.signed), reveal: added[2]!.reveal });
  const cases: Array<[string, ProofBundle, string, RegExp]> = [
    ["a proof hash", { ...good, hashes: [flipBit(good.hashes[0]!, 1), ...good.hashes.slice(1)] }, "ROOT_MISMATCH", /^the inclusion proof of entry 2 in the tree of size 7: the proof does not match the root/],
    ["another entry", { ...good, entry: { entry: entryOf(added[3]!.signed) } }, "ROOT_MISMATCH", /^the inclusion proof of entry 2/],
    ["another value revealed", { ...good, entry: { ...good.entry!, reveal: added[4]!.reveal } }, "REVEAL_MISMATCH", /^the bundle's reveal: the reveal does not open the statement's commitment/],
    ["a bad signature", { ...good, entry: { entry: entryOf(withBadSignature(added[2]!.signed)) } }, "SIGNATURE_INVALID", /^the bundle's entry: the statement's signature does not verify under charlie.example's key/],
    ["a checkpoint short of quorum", { ...good, checkpoint: cosign(fixture, 7, tree.hash(0, 7), [alpha, bravo]) }, "CHECKPOINT_SHORT_OF_QUORUM", /^the bundle's checkpoint: the checkpoint carries valid signatures from 2 of 4 validators/],
    ["no entry", { ...good, entry: undefined }, "PROOF_BUNDLE_MALFORMED", /carries no entry/],
  ];
  for (const [name, bundle, code, message] of cases) {
    const error = thrown(() => verifyProofBundle(fixture.federation, parseProofBundle(formatProofBundle(bundle)))) as Error & { code: string };
    expect({ name, code: error.code, message: error.message }).toEqual({ name, code, message: expect.stringMatching(message) });
  }
});

test("text that is not a well-formed bundle is refused line by line", () => {
  const text = formatProofBundle(bundleFor(2));
  const lines = text.split("\n");
  const replaced = (position: number, line: string): string => [...lines.slice(0, position), line, ...lines.slice(position + 1)].join("\n");
  const cases: Array<[string, string, RegExp]> = [
    ["another header", replaced(0, "c2sp.org/tlog-proof@v2"), /starts with the line c2sp.org\/tlog-proof@v1/],
    ["a leading zero", replaced(2, "index 02"), /line 3: expected "index <decimal/],
    ["a hash in URL base64", replaced(3, lines[3]!.replace(/\+/g, "-").replace(/\//g, "_").replace(/=$/, "") + "A"), /line 4: not a 32-byte hash in canonical base64/],
    ["the extra data for another entry", replaced(2, "index 3"), /the extra data is for entry 2, the proof for entry 3/],
    ["no blank line", lines.slice(0, 6).join("\n"), /needs a blank line between the proof and the checkpoint/],
  ];
  for (const [name, mutant, message] of cases) {
    const error = thrown(() => parseProofBundle(mutant)) as Error & { code: string };
    expect({ name, code: error.code, message: error.message }).toEqual({ name, code: "PROOF_BUNDLE_MALFORMED", message: expect.stringMatching(message) });
  }
});
