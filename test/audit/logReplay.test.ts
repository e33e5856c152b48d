import { LogReplay, replayRuns, SignatureWorkers } from "../../src/audit";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { hashLeaf } from "../../src/log";
import { type SignedStatement, verifyStatementSignature } from "../../src/statements";
import { ReferenceTree } from "../log/referenceTree";
import { thrown } from "../log/thrown";
import { federationFixture, StatementMaker } from "../support/statements";
import { alpha, bravo, fixture, statementsFor, withBadSignature } from "./auditRounds";

/**
 * Goal: a replay recomputes the tree's root from the leaves as served and holds every entry to the
 * federation's rules, naming the entry that breaks one, and the signature workers agree with the
 * in-thread verifier on every signature.
 * Method: logs from the fixture's members, replayed in runs and compared with a reference tree;
 * then one rule broken per case.
 */

const leavesOf = (statements: readonly SignedStatement[]): Buffer[] => statements.map((signed) => signed.entryBytes);
const allValid = (count: number): Uint8Array => new Uint8Array(count).fill(1);

function replayed(statements: readonly SignedStatement[]): LogReplay {
  const replay = new LogReplay(fixture.federation, [3, 4]);
  replay.apply(replay.prepare(0n, leavesOf(statements)), allValid(statements.length));
  return replay;
}

test("a replay in runs reaches the reference tree's root at every run's end, and counts the entries", () => {
  const statements = statementsFor(9, "replay");
  const reference = new ReferenceTree(statements.map((signed) => hashLeaf(signed.entryBytes)));
  const replay = new LogReplay(fixture.federation, [3, 4]);
  for (const run of [[0, 4], [4, 5], [5, 9]] as const) {
    replay.apply(replay.prepare(BigInt(run[0]), leavesOf(statements.slice(run[0], run[1]))), allValid(run[1] - run[0]));
    expect(replay.root()).toEqual(reference.hash(0, run[1]));
  }
  expect(replay.size).toBe(9n);
  const { tallies } = replay;
  expect({ entries: tallies.entries, additions: tallies.additions, retractions: tallies.retractions }).toEqual({ entries: 9, additions: 8, retractions: 1 });
  expect(Object.fromEntries(tallies.byLabel)).toEqual({ "graphic-violence": 8 });
  expect(Object.fromEntries(tallies.byTaxonomyVersion)).toEqual({ 1: 8 });
  expect(Object.fromEntries(tallies.bySignalType)).toEqual({ sha256: 5, md5: 3 });
  expect(Object.fromEntries(tallies.retractionsByReason)).toEqual({ "false-positive": 1 });
  expect(Object.fromEntries(tallies.byDay)).toEqual({ "2023-11-14": { additions: 8, retractions: 1 } });
});

test("each broken rule names its entry; a bad signature appends nothing of its run, a broken rule leaves the replay just before its entry", () => {
  const statements = statementsFor(6, "rules");
  const maker = new StatementMaker(fixture.federation, "rules-broken");
  const outsider = maker.add(fixture.outsider).signed;
  const foreign = new StatementMaker(federationFixture({ validatorCount: 4, label: "other" }).federation, "foreign").add(alpha.key).signed;
  const notOwner = maker.retract(bravo.key, statements[0]!.id).signed;
  const retractedTwice = maker.retract(alpha.key, statements[0]!.id).signed;
  // The same LogEntry with its fields in the other order: it decodes, but it is not the canonical leaf.
  const encoded = Buffer.from(LogEntry.encode({ statement: statements[1]!.bytes, signature: Buffer.alloc(0) }).finish());
  const swappedFields = Buffer.concat([Buffer.from([0x12, 0x40]), statements[1]!.signature, encoded]);
  expect(LogEntry.decode(swappedFields)).toEqual({ statement: statements[1]!.bytes, signature: statements[1]!.signature });
  const trailing = Buffer.concat([statements[1]!.entryBytes, Buffer.from([0])]);
  const cases: Array<[string, () => void, string, RegExp]> = [
    ["a non-member", () => new LogReplay(fixture.federation, [1, 1]).prepare(0n, leavesOf([statements[0]!, outsider])), "NOT_A_MEMBER", /^entry 1: "outsider.example" is not a member/],
    ["another federation", () => new LogReplay(fixture.federation, [1, 1]).prepare(0n, leavesOf([foreign])), "FEDERATION_MISMATCH", /^entry 0: the statement is for federation/],
    ["bytes after the signature", () => new LogReplay(fixture.federation, [1, 1]).prepare(5n, [trailing]), "ENTRY_MALFORMED", /^entry 5: log entry bytes are not a canonical LogEntry/],
    ["fields out of order", () => new LogReplay(fixture.federation, [1, 1]).prepare(5n, [swappedFields]), "ENTRY_MALFORMED", /^entry 5: log entry bytes are not a canonical LogEntry/],
    ["a duplicate", () => replayed([...statements, statements[2]!]), "STATEMENT_DUPLICATE", /^entry 6: statement [0-9a-f]{64} is already on the log/],
    ["a retraction by another member", () => replayed([...statements, notOwner]), "RETRACT_NOT_OWNER", /^entry 6: statement [0-9a-f]{64} was submitted by alpha.example; bravo.example can only retract its own entries/],
    ["a second retraction", () => replayed([...statements, retractedTwice]), "RETRACT_TWICE", /^entry 6: statement [0-9a-f]{64} was already retracted by the entry at log index 3/],
  ];
  for (const [name, attempt, code, message] of cases) {
    const error = thrown(attempt) as Error & { code: string };
    expect({ name, code: error.code, message: error.message }).toEqual({ name, code, message: expect.stringMatching(message) });
  }
  const replay = replayed(statements.slice(0, 2));
  const broken = replay.prepare(2n, leavesOf(statements.slice(2, 5)));
  const results = allValid(3);
  results[1] = 0;
  expect(thrown(() => replay.apply(broken, results))).toMatchObject({ code: "SIGNATURE_INVALID", message: expect.stringMatching(/^entry 3: the statement's signature does not verify under alpha.example's key/) });
  expect(replay.size).toBe(2n);
  replay.apply(broken, allValid(3));
  expect(replay.size).toBe(5n);
  const duplicated = replay.prepare(5n, leavesOf([statements[5]!, statements[0]!, notOwner]));
  expect(thrown(() => replay.apply(duplicated, allValid(3)))).toMatchObject({ code: "STATEMENT_DUPLICATE", message: expect.stringMatching(/^entry 6: .* at log index 0$/) });
  expect(replay.size).toBe(6n);
});

test("the runs of a replay stop at every checkpoint size inside it and hold at most the call limit", () => {
  const runs = (from: bigint, to: bigint, stops: bigint[]) => replayRuns(from, to, stops, 1000n).map((run) => `${run.start}-${run.end}`);
  expect(runs(0n, 2500n, [])).toEqual(["0-1000", "1000-2000", "2000-2500"]);
  expect(runs(0n, 2500n, [1500n, 2000n, 2000n, 2500n, 3000n, 0n])).toEqual(["0-1000", "1000-1500", "1500-2000", "2000-2500"]);
  expect(runs(700n, 900n, [800n])).toEqual(["700-800", "800-900"]);
  expect(runs(900n, 900n, [])).toEqual([]);
});

test("the signature workers agree with the in-thread verifier, good and bad signatures alike, across members", async () => {
  const statements = statementsFor(40, "workers").map((signed, index) => (index % 7 === 2 ? withBadSignature(signed) : signed));
  const prepared = new LogReplay(fixture.federation, [1, 1]).prepare(0n, leavesOf(statements));
  const expected = statements.map((signed, index) => {
    try {
      verifyStatementSignature(prepared.submitters[index]!, signed);
      return 1;
    } catch {
      return 0;
    }
  });
  expect(expected.filter((valid) => valid === 0)).toHaveLength(6);
  const workers = new SignatureWorkers(fixture.federation, 2);
  try {
    const halves = [await workers.verify({ ...prepared, statements: prepared.statements.slice(0, 20), submitters: prepared.submitters.slice(0, 20) }), await workers.verify({ ...prepared, start: 20n, statements: prepared.statements.slice(20), submitters: prepared.submitters.slice(20) })];
    expect([...halves[0]!, ...halves[1]!]).toEqual(expected);
  } finally {
    await workers.close();
  }
  await expect(workers.verify(prepared)).rejects.toThrow("the signature workers were closed");
});
