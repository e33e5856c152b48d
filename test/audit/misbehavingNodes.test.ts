/**
 * Goal: each way a node can lie to an auditor is caught, with a message that says what happened,
 * and the honest case passes: a checkpoint short of quorum, a history that shrank, a history
 * rewritten under a quorum's signatures (a fork, with evidence that verifies offline and names the
 * double signers), two nodes showing different histories, a tampered entry (swapped, or with a bad
 * signature), a garbage consistency proof, an unreachable node.
 * Method: a fake Log service (test/support/fakeLogNode.ts) serves logs built in memory and cosigned
 * with the test's own validator keys, so a "quorum" can sign anything; the real Auditor runs one
 * round at a time in this process against a state folder, as `hashfed audit` does.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Auditor, checkForkEvidenceFile, formatAuditReport, STATE_FILE, StateFolder, verdictOf } from "../../src/audit";
import { cosign, FakeLogNode, servedLog } from "../support/fakeLogNode";
import { alpha, auditRound, bravo, charlie, delta, findingsOf, fixture, stateFolder, statementsFor, testEnvironment, withBadSignature } from "./auditRounds";

let nodes: FakeLogNode[] = [];
let state: string;

beforeEach(async () => {
  nodes = await Promise.all([FakeLogNode.start(), FakeLogNode.start()]);
  state = await stateFolder();
});

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await rm(state, { recursive: true, force: true });
});

const quorum = [alpha, bravo, charlie];

test("the honest case: a first full audit accepts the cosigned checkpoint and counts the entries; a later one accepts the log's extension", async () => {
  const [node] = nodes;
  const statements = statementsFor(14, "honest");
  node!.serve(servedLog(fixture, statements.slice(0, 10), quorum));
  const first = await auditRound([node!], state, { full: true });
  expect(findingsOf(first)).toEqual([]);
  expect(verdictOf(first)).toBe("ok");
  expect(first.accepted?.verified.checkpoint.size).toBe(10n);
  expect(first.replay?.tallies).toMatchObject({ entries: 10, additions: 9, retractions: 1 });
  expect(Object.fromEntries(first.replay!.tallies.byMember)).toEqual({
    "alpha.example": { additions: 2, retractions: 1 },
    "bravo.example": { additions: 2, retractions: 0 },
    "charlie.example": { additions: 2, retractions: 0 },
    "delta.example": { additions: 1, retractions: 0 },
    "observer.example": { additions: 2, retractions: 0 },
  });
  expect(statSync(join(state, STATE_FILE)).mode & 0o777).toBe(0o600);

  node!.serve(servedLog(fixture, statements, [bravo, charlie, delta]));
  const second = await auditRound([node!], state, { full: true });
  expect(findingsOf(second)).toEqual([]);
  expect(second.previous?.verified.checkpoint.size).toBe(10n);
  expect(second.accepted?.verified.checkpoint.size).toBe(14n);
  expect(second.replay).toMatchObject({ from: 0n, to: 14n });
});

test("a checkpoint short of quorum is refused, naming who signed, and nothing is accepted", async () => {
  nodes[0]!.serve(servedLog(fixture, statementsFor(6, "short"), [alpha, bravo]));
  const report = await auditRound([nodes[0]!], state);
  expect(verdictOf(report)).toBe("failed");
  expect(findingsOf(report)).toEqual([
    `failure CHECKPOINT_SHORT_OF_QUORUM: ${nodes[0]!.address}: the checkpoint carries valid signatures from 2 of 4 validators (alpha.example, bravo.example); a quorum is 3`,
  ]);
  expect(report.accepted).toBeUndefined();
  expect(existsSync(join(state, STATE_FILE))).toBe(false);
});

test("a node that served a checkpoint and later serves a smaller one has lost history", async () => {
  const statements = statementsFor(10, "shrink");
  nodes[0]!.serve(servedLog(fixture, statements, quorum));
  await auditRound([nodes[0]!], state);
  nodes[0]!.serve(servedLog(fixture, statements.slice(0, 6), quorum));
  const report = await auditRound([nodes[0]!], state);
  expect(verdictOf(report)).toBe("failed");
  expect(findingsOf(report)).toEqual([
    `failure LOG_SHRANK: ${nodes[0]!.address} served the checkpoint of size 10 at 2026-01-01T00:00:01.000Z and now serves size 6: its log shrank, and no node proves the smaller tree a prefix of the larger`,
  ]);
  expect(report.accepted?.verified.checkpoint.size).toBe(10n);
});

test("a node behind the accepted checkpoint is proven a prefix by the node that holds it, and that is no failure", async () => {
  const statements = statementsFor(10, "behind");
  nodes[0]!.serve(servedLog(fixture, statements, quorum));
  await auditRound([nodes[0]!], state);
  nodes[1]!.serve(servedLog(fixture, statements.slice(0, 7), quorum));
  const report = await auditRound(nodes, state, { full: true });
  expect(findingsOf(report)).toEqual([]);
  expect(report.nodes.map((node) => node.standing)).toEqual(["current", "behind"]);
});

test("a history rewritten under a quorum's signatures is a fork: the evidence verifies offline and names the validators that signed both", async () => {
  nodes[0]!.serve(servedLog(fixture, statementsFor(10, "original"), quorum));
  await auditRound([nodes[0]!], state);
  nodes[0]!.serve(servedLog(fixture, statementsFor(12, "rewritten"), [bravo, charlie, delta]));
  const report = await auditRound([nodes[0]!], state, { full: true });
  expect(verdictOf(report)).toBe("fork");
  expect(report.evidenceFiles).toHaveLength(1);
  expect(findingsOf(report)[0]).toMatch(/^fork FORK: the checkpoint of size 10 .* and the checkpoint of size 12 .* cannot both be true: the tree of size 12 has root .* at size 10; validators that signed both: bravo.example, charlie.example$/);
  const proven = checkForkEvidenceFile(fixture.federation, readFileSync(report.evidenceFiles[0]!, "utf8"));
  expect(proven.kind).toBe("not-a-prefix");
  expect(proven.doubleSigners).toEqual(["bravo.example", "charlie.example"]);
  expect(statSync(report.evidenceFiles[0]!).mode & 0o777).toBe(0o600);
  // Nothing of the forked history is accepted or replayed.
  expect(report.accepted?.verified.checkpoint.size).toBe(10n);
  expect(report.replay).toBeUndefined();
});

test("two nodes showing different histories of the same size at once is a fork, with no state needed", async () => {
  nodes[0]!.serve(servedLog(fixture, statementsFor(8, "left"), [alpha, bravo, charlie, delta]));
  nodes[1]!.serve(servedLog(fixture, statementsFor(8, "right"), [alpha, bravo, charlie]));
  // An evidence folder that does not exist yet is made (owner-only) for the evidence.
  const evidenceFolder = join(state, "evidence", "forks");
  const report = await auditRound(nodes, state, { evidenceFolder });
  expect(verdictOf(report)).toBe("fork");
  expect(report.evidenceFiles).toEqual([expect.stringContaining(evidenceFolder)]);
  expect(statSync(evidenceFolder).mode & 0o777).toBe(0o700);
  const proven = checkForkEvidenceFile(fixture.federation, readFileSync(report.evidenceFiles[0]!, "utf8"));
  expect(proven.kind).toBe("same-size");
  expect(proven.doubleSigners).toEqual(["alpha.example", "bravo.example", "charlie.example"]);
});

test("a full replay finds an entry swapped for another validly signed one, and names it", async () => {
  const statements = statementsFor(10, "tamper");
  const swapped = [...statements];
  swapped[6] = statementsFor(10, "other")[6]!;
  nodes[0]!.serve({ ...servedLog(fixture, statements, quorum), entries: swapped });
  const report = await auditRound([nodes[0]!], state, { full: true });
  expect(verdictOf(report)).toBe("failed");
  expect(findingsOf(report)).toEqual([
    expect.stringMatching(new RegExp(`^failure ENTRY_TAMPERED: entry 6 as served by ${nodes[0]!.address} is not the entry the checkpoint of size 10 commits to: the served entry's leaf hash is [0-9a-f]{64}, the tree's leaf 6 is [0-9a-f]{64}`)),
  ]);
});

test("a broken entry is blamed on whoever broke it: the node that served it altered, or the quorum that committed it", async () => {
  const statements = statementsFor(10, "blame");
  const badlySigned = [...statements];
  badlySigned[5] = withBadSignature(statements[5]!);
  const duplicated = [...statements];
  duplicated[7] = statements[2]!;
  const cases: Array<[string, ReturnType<typeof servedLog>, string]> = [
    ["served with a bad signature", { ...servedLog(fixture, statements, quorum), entries: badlySigned }, `failure ENTRY_TAMPERED: entry 5 as served by ${nodes[0]!.address} is not the entry the checkpoint of size 10 commits to`],
    ["committed with a bad signature", servedLog(fixture, badlySigned, quorum), `failure SIGNATURE_INVALID: entry 5, committed under the checkpoint of size 10 (shown by an inclusion proof): the statement's signature does not verify under alpha.example's key ${alpha.key.keyId.toString("hex")}`],
    ["committed twice", servedLog(fixture, duplicated, quorum), `failure STATEMENT_DUPLICATE: entry 7, committed under the checkpoint of size 10 (shown by an inclusion proof): statement ${statements[2]!.id.toString("hex")} is already on the log at log index 2`],
  ];
  for (const [name, log, finding] of cases) {
    nodes[0]!.serve(log);
    const report = await auditRound([nodes[0]!], join(state, name.replace(/ /g, "-")), { full: true });
    expect({ name, findings: findingsOf(report) }).toEqual({ name, findings: [expect.stringContaining(finding)] });
  }
});

test("a sampled audit checks each sampled entry with an inclusion proof, its signature and its rules", async () => {
  const statements = statementsFor(6, "samples");
  const swapped = [...statements];
  swapped[2] = statementsFor(6, "elsewhere")[2]!;
  nodes[0]!.serve({ ...servedLog(fixture, statements, quorum), entries: swapped });
  const report = await auditRound([nodes[0]!], state, { samples: 6 });
  expect(findingsOf(report)).toEqual([expect.stringMatching(/^failure ENTRY_TAMPERED: entry 2 as served by/)]);
  // The report does not claim the samples checked.
  expect(report.sampledIndexes).toBeUndefined();
  expect(formatAuditReport(report)).not.toContain("sampled entries checked");
  nodes[0]!.serve(servedLog(fixture, statements, quorum));
  expect((await auditRound([nodes[0]!], join(state, "honest"), { samples: 6 })).sampledIndexes).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
});

test("a node that sends a garbage consistency proof for a tree that does extend the accepted one is caught, and no fork is claimed", async () => {
  const statements = statementsFor(12, "garbage");
  nodes[0]!.serve(servedLog(fixture, statements.slice(0, 5), quorum));
  await auditRound([nodes[0]!], state);
  nodes[0]!.serve({ ...servedLog(fixture, statements, quorum), consistencyProof: () => [Buffer.alloc(32, 7)] });
  const report = await auditRound([nodes[0]!], state);
  expect(verdictOf(report)).toBe("failed");
  expect(findingsOf(report)).toEqual([
    expect.stringMatching(new RegExp(`^failure NODE_PROOF_INVALID: ${nodes[0]!.address} sent a consistency proof from size 5 to 12 that does not verify \\(.*\\), although its tree extends the smaller one$`)),
  ]);
  expect(report.evidenceFiles).toEqual([]);
});

test("a consistency proof that does not verify is a failure even when the node then fails to answer for the inclusion proof that would say more", async () => {
  const statements = statementsFor(12, "garbage-then-silence");
  nodes[0]!.serve(servedLog(fixture, statements.slice(0, 5), quorum));
  await auditRound([nodes[0]!], state);
  nodes[0]!.serve({ ...servedLog(fixture, statements, quorum), consistencyProof: () => [Buffer.alloc(32, 7)], unavailable: ["getInclusionProof"] });
  const report = await auditRound([nodes[0]!], state);
  expect(verdictOf(report)).toBe("failed");
  expect(findingsOf(report)).toEqual([expect.stringMatching(/^failure CONSISTENCY_UNPROVEN: .* cannot prove its checkpoint of size 12 consistent .*UNAVAILABLE/)]);
  // A node that answers neither leaves the audit incomplete.
  nodes[0]!.serve({ ...servedLog(fixture, statements, quorum), unavailable: ["getConsistencyProof", "getInclusionProof"] });
  expect(verdictOf(await auditRound([nodes[0]!], state))).toBe("incomplete");
});

test("nodes equally behind another are all behind it, and the entries are read from the one that is current", async () => {
  const third = await FakeLogNode.start();
  try {
    const statements = statementsFor(20, "two-behind");
    nodes[0]!.serve(servedLog(fixture, statements.slice(0, 10), quorum));
    nodes[1]!.serve(servedLog(fixture, statements.slice(0, 10), quorum));
    third.serve(servedLog(fixture, statements, quorum));
    for (const full of [false, true]) {
      const report = await auditRound([...nodes, third], join(state, String(full)), { full });
      expect({ full, findings: findingsOf(report) }).toEqual({ full, findings: [] });
      expect(report.nodes.map((node) => node.standing)).toEqual(["behind", "behind", "current"]);
      expect(report.accepted?.verified.checkpoint.size).toBe(20n);
    }
  } finally {
    await third.stop();
  }
});

test("with --follow, a full replay that a node left unfinished is started over, and still finds a tampered entry", async () => {
  const statements = statementsFor(3000, "follow");
  const swapped = [...statements];
  [swapped[1500], swapped[2500]] = [statements[2500]!, statements[1500]!];
  const log = { ...servedLog(fixture, statements, quorum), entries: swapped };
  const folder = await StateFolder.open(state, fixture.federation);
  const auditor = new Auditor(
    { federation: fixture.federation, addresses: [nodes[0]!.address], full: true, samples: 4, evidenceFolder: state, deadlineMs: 5000, workers: 1 },
    testEnvironment(),
  );
  try {
    // The runs' root checks (consistency proofs) go unanswered in the first round, while the entries come.
    nodes[0]!.serve({ ...log, unavailable: ["getConsistencyProof"] });
    const first = await auditor.round(folder);
    expect(verdictOf(first)).toBe("incomplete");
    expect(first.replay).toBeUndefined();
    nodes[0]!.serve(log);
    const second = await auditor.round(folder);
    expect(verdictOf(second)).toBe("failed");
    expect(findingsOf(second)).toEqual([expect.stringMatching(/^failure ENTRY_TAMPERED: entry 1500 as served by/)]);
  } finally {
    await auditor.close();
    await folder.close();
  }
});

test("with --follow, a full replay that stopped because the node stopped sending entries goes on from where it stopped", async () => {
  const statements = statementsFor(3000, "gone");
  const log = servedLog(fixture, statements, quorum);
  const folder = await StateFolder.open(state, fixture.federation);
  const auditor = new Auditor(
    { federation: fixture.federation, addresses: [nodes[0]!.address], full: true, samples: 4, evidenceFolder: state, deadlineMs: 5000, workers: 1 },
    testEnvironment(),
  );
  try {
    nodes[0]!.serve({ ...log, entriesBelow: 2000 });
    expect(findingsOf(await auditor.round(folder))).toEqual([expect.stringMatching(/^unavailable NODE_UNREACHABLE: .*the node stopped answering/)]);
    nodes[0]!.serve(log);
    const second = await auditor.round(folder);
    expect(verdictOf(second)).toBe("ok");
    expect(second.replay).toMatchObject({ from: 2000n, to: 3000n });
  } finally {
    await auditor.close();
    await folder.close();
  }
});

test("a checkpoint too large to replay in memory leaves a full audit incomplete, and allocates nothing for it", async () => {
  const log = servedLog(fixture, statementsFor(4, "huge"), quorum);
  nodes[0]!.serve({ ...log, checkpoint: cosign(fixture, 2 ** 40, log.tree.hash(0, 4), quorum) });
  const report = await auditRound([nodes[0]!], state, { full: true });
  expect(verdictOf(report)).toBe("incomplete");
  expect(findingsOf(report)).toEqual([`unavailable REPLAY_TOO_LARGE: a full replay holds at most 4294967294 entries in memory; the checkpoint is of size ${2 ** 40}: audit it by samples`]);
});

test("a node too busy to answer (its Log service at its limit) makes the audit incomplete, not failed", async () => {
  nodes[0]!.serve(servedLog(fixture, statementsFor(4, "busy"), quorum));
  nodes[1]!.serve({ ...servedLog(fixture, statementsFor(4, "busy"), quorum), busy: true });
  const report = await auditRound([nodes[0]!], state, { addresses: [nodes[0]!.address, nodes[1]!.address] });
  expect(verdictOf(report)).toBe("incomplete");
  expect(findingsOf(report)).toEqual([expect.stringMatching(new RegExp(`^unavailable NODE_BUSY: ${nodes[1]!.address}: RESOURCE_EXHAUSTED`))]);
});

test("a node that cannot be reached makes the audit incomplete, not failed", async () => {
  const stopped = nodes[1]!.address;
  await nodes[1]!.stop();
  nodes[0]!.serve(servedLog(fixture, statementsFor(4, "reach"), quorum));
  const report = await auditRound([nodes[0]!], state, { addresses: [nodes[0]!.address, stopped] });
  expect(verdictOf(report)).toBe("incomplete");
  expect(findingsOf(report)).toEqual([expect.stringMatching(new RegExp(`^unavailable NODE_UNREACHABLE: ${stopped}: UNAVAILABLE`))]);
  expect(report.accepted?.verified.checkpoint.size).toBe(4n);
});
