/**
 * Goal: `hashfed audit` against real nodes passes an honest federation's log (a full replay with
 * its counts), hands out proof bundles a regulator can check offline, and catches a fork made by a
 * set of validator keys holding a quorum: the auditor exits 3 and writes evidence that
 * `hashfed audit verify-evidence` accepts offline, naming exactly the validators that signed both
 * checkpoints.
 * Method: four `hashfed node` processes on loopback; statements (one a retraction) submitted at A;
 * `hashfed audit --full` with all four nodes and a state folder; `hashfed proof export --reveal`
 * and `hashfed proof verify`. Then every node is stopped, and three of the four members (a quorum)
 * start again from fresh, empty data folders with the same keys, federation file and addresses:
 * they commit a different history, which the auditor, with its state, must refuse as a fork.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAuditState } from "../../src/audit";
import { call, connectMember } from "../../src/client/rpc";
import { RetractReason } from "../../src/gen/hashfed/v1/statement";
import { runCli } from "../support/cli";
import { localFederation, type NodeProcess, SHORT_TIMEOUTS, type SoloSetup, startNodeProcess } from "../support/cluster";
import { NodeClients, waitForSize } from "../support/federationNet";
import { addSubmission, randomHex32 } from "../support/submissions";

let members: SoloSetup[];
let processes: NodeProcess[] = [];
let state: string;

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example", "c.example", "d.example"], SHORT_TIMEOUTS);
  processes = await Promise.all(members.map((member) => startNodeProcess(member)));
  state = await mkdtemp(join(tmpdir(), "hashfed-audit-state-"));
}, 30_000);

afterAll(async () => {
  await Promise.all(processes.map((node) => node.kill("SIGTERM")));
  if (members !== undefined) await rm(members[0]!.folder, { recursive: true, force: true });
  if (state !== undefined) await rm(state, { recursive: true, force: true });
});

/** Submits at `member`'s node and waits for the commit; returns the acknowledged statement ids. */
async function submit(member: SoloSetup, count: number): Promise<Buffer[]> {
  const connection = connectMember(member.memberAddress);
  try {
    const submissions = Array.from({ length: count }, (_, i) => addSubmission(i % 2 === 0 ? "sha256" : "md5", i % 2 === 0 ? randomHex32() : randomHex32().slice(0, 32)));
    const response = await call(connection, connection.client.submit, { submissions }, 20_000);
    return response.acknowledgements.map((ack) => ack.statementId);
  } finally {
    connection.client.close();
  }
}

function auditArgs(nodes: readonly SoloSetup[]): string[] {
  return ["audit", "--federation", members[0]!.federationFile, "--state", state, "--json", ...nodes.flatMap((member) => ["--node", member.publicAddress])];
}

test("an honest federation's log passes a full audit, and a proof bundle of one entry verifies offline", async () => {
  const [a, b] = members;
  const ids = await submit(a!, 6);
  const connection = connectMember(a!.memberAddress);
  await call(connection, connection.client.submit, { submissions: [{ kind: { $case: "retract", value: { target: ids[0]!, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }] }, 20_000);
  connection.client.close();
  const clients = members.map((member) => new NodeClients(member));
  await waitForSize(clients, 7n, 15_000);
  clients.forEach((client) => client.close());

  const audit = await runCli([...auditArgs(members), "--full"]);
  expect(audit.code).toBe(0);
  // Progress goes to stderr, the report to stdout.
  expect(audit.stderr).toContain("replay: 7 of 7 entries (100%)");
  const report = JSON.parse(audit.stdout);
  expect(report).toMatchObject({ verdict: "ok", mode: "full", accepted: { size: 7 }, findings: [] });
  expect(report.replay.tallies).toMatchObject({ entries: 7, additions: 6, retractions: 1, byMember: { "a.example": { additions: 6, retractions: 1 } }, retractionsByReason: { "false-positive": 1 } });

  const bundle = join(state, "entry-2.tlog-proof");
  const exported = await runCli(["proof", "export", "--federation", a!.federationFile, "--index", "2", "--node", b!.publicAddress, "--member", b!.memberAddress, "--reveal", "--out", bundle]);
  expect({ code: exported.code, stderr: exported.stderr }).toEqual({ code: 0, stderr: "" });
  const verified = await runCli(["proof", "verify", bundle, "--federation", a!.federationFile, "--json"]);
  expect(verified.code).toBe(0);
  expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, index: 2, submitter: "a.example", statement: { kind: "addSignal", signalType: "sha256" }, revealedValue: expect.stringMatching(/^[0-9a-f]{64}$/) });
  // One changed proof hash and the bundle proves nothing.
  const text = await readFile(bundle, "utf8");
  const lines = text.split("\n");
  const hashLine = lines.findIndex((line) => line.startsWith("index ")) + 1;
  lines[hashLine] = Buffer.alloc(32, 1).toString("base64");
  await writeFile(bundle, lines.join("\n"));
  const broken = await runCli(["proof", "verify", bundle, "--federation", a!.federationFile]);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toMatch(/^hashfed: the inclusion proof of entry 2 in the tree of size 7: the proof does not match the root/);
}, 40_000);

test("a quorum of validators that signs a second history is caught: exit 3, and evidence that verifies offline names the double signers", async () => {
  const accepted = parseAuditState(await readFile(join(state, "audit-state.json"), "utf8"), members[0]!.federation, "state").accepted!;
  await Promise.all(processes.map((node) => node.kill("SIGTERM")));
  const quorum = members.slice(0, 3);
  processes = await Promise.all(quorum.map((member) => startNodeProcess(member, { dataDir: join(member.folder, "forked", member.key.name) })));
  await submit(quorum[0]!, 10);
  const clients = quorum.map((member) => new NodeClients(member));
  await waitForSize(clients, 10n, 20_000);
  const forked = (await clients[0]!.checkpoint())!;
  clients.forEach((client) => client.close());

  const audit = await runCli(auditArgs(members));
  expect(audit.code).toBe(3);
  const report = JSON.parse(audit.stdout);
  expect(report.verdict).toBe("fork");
  expect(report.accepted.size).toBe(7);
  expect(report.findings).toContainEqual(expect.objectContaining({ severity: "fork", code: "FORK" }));
  expect(report.findings).toContainEqual(expect.objectContaining({ severity: "unavailable", code: "NODE_UNREACHABLE" }));
  const evidence = (await readdir(state)).filter((file) => file.startsWith("fork-evidence-"));
  expect(evidence.length).toBeGreaterThanOrEqual(1);

  const doubleSigners = accepted.verified.signers.filter((name) => forked.signers.includes(name));
  expect(doubleSigners.length).toBeGreaterThanOrEqual(2);
  const checked = await runCli(["audit", "verify-evidence", join(state, evidence[0]!), "--federation", members[0]!.federationFile, "--json"]);
  expect({ code: checked.code, stderr: checked.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(checked.stdout)).toMatchObject({
    valid: true,
    conflict: "not-a-prefix",
    doubleSigners,
    first: { size: 7, signers: accepted.verified.signers },
    second: { size: 10, signers: forked.signers },
  });
  const human = await runCli(["audit", "verify-evidence", join(state, evidence[0]!), "--federation", members[0]!.federationFile]);
  expect(human.stdout).toContain(`validators that signed both: ${doubleSigners.join(", ")}`);
}, 60_000);
