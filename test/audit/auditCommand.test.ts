/**
 * Goal: `hashfed audit` as a command: --follow keeps auditing round after round as the log grows and
 * stops with the failing round's exit code; the documented exit codes hold (4 when nothing could be
 * audited, 2 for usage); the report for people says what was checked; an interrupt without
 * --follow stops it at once.
 * Method: the compiled CLI as a real process against the fake Log service of
 * test/support/fakeLogNode.ts, whose log the test grows and then breaks between rounds.
 */
import { rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { runCli, spawnCli } from "../support/cli";
import { FakeLogNode, servedLog } from "../support/fakeLogNode";
import { alpha, bravo, charlie, delta, fixture, stateFolder, statementsFor } from "./auditRounds";

let node: FakeLogNode;
let folder: string;
let federationFile: string;

beforeEach(async () => {
  node = await FakeLogNode.start();
  folder = await stateFolder();
  federationFile = join(folder, "federation.json");
  await writeFile(federationFile, fixture.federation.text);
});

afterEach(async () => {
  await node.stop();
  await rm(folder, { recursive: true, force: true });
});

const auditArgs = (...extra: string[]): string[] => ["audit", "--federation", federationFile, "--state", join(folder, "state"), "--node", node.address, ...extra];

test("--follow audits a round per interval as the log grows, and exits 1 at the first round that fails", async () => {
  const statements = statementsFor(9, "follow");
  node.serve(servedLog(fixture, statements.slice(0, 5), [alpha, bravo, charlie]));
  const audit = spawnCli(auditArgs("--follow", "--interval", "0.2", "--full", "--json"));
  const [first] = await audit.lines(1);
  expect(JSON.parse(first!)).toMatchObject({ verdict: "ok", accepted: { size: 5 }, replay: { from: 0, to: 5 } });
  node.serve(servedLog(fixture, statements, [bravo, charlie, delta]));
  let grown: { accepted: { size: number }; replay?: { from: number; to: number } } | undefined;
  for (let count = 2; grown?.accepted.size !== 9; count++) grown = JSON.parse((await audit.lines(count)).pop()!);
  // Following, the replay goes on from where the last round stopped.
  expect(grown.replay).toMatchObject({ from: 5, to: 9 });
  node.serve(servedLog(fixture, statements, [alpha, bravo]));
  expect(await audit.exited).toBe(1);
  const last = JSON.parse(audit.stdout().trim().split("\n").pop()!);
  expect(last).toMatchObject({ verdict: "failed", findings: [{ code: "CHECKPOINT_SHORT_OF_QUORUM" }] });
});

test("exit 4 when no node can be reached, 2 for a usage error; the report for people names what was checked", async () => {
  await node.stop();
  const unreachable = await runCli(auditArgs());
  expect(unreachable.code).toBe(4);
  expect(unreachable.stdout).toMatch(/: INCOMPLETE\n/);
  expect(unreachable.stdout).toContain(`${node.address}: unreachable`);
  expect((await runCli(["audit", "--federation", federationFile, "--state", join(folder, "state")])).code).toBe(2);
  expect((await runCli([...auditArgs(), "--samples", "many"])).code).toBe(2);
});

test("a sampled audit's report for people lists the nodes, the accepted checkpoint and the entries checked", async () => {
  node.serve(servedLog(fixture, statementsFor(3, "people"), [alpha, bravo, charlie]));
  const result = await runCli(auditArgs());
  expect(result.code).toBe(0);
  const lines = result.stdout.split("\n");
  expect(lines[0]).toMatch(/^audit of hashfed.example\/audit \(federation [0-9a-f]{16}…\), sampled, .*: OK$/);
  expect(lines).toContain("  no checkpoint accepted before (first contact)");
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^  ${node.address}: current, size 3 \\(root .*\\) cosigned by alpha.example, bravo.example, charlie.example$`)));
  expect(lines).toContain("  3 sampled entries checked with inclusion proofs, signatures and rules: 0, 1, 2");
});

test("without --follow, an interrupt stops the audit at once, even while a node keeps it waiting", async () => {
  // A node that takes the connection and never answers: the audit would wait for its 30 s deadline.
  let connected = (): void => {};
  const reached = new Promise<void>((resolve) => (connected = resolve));
  const silent = createServer(() => connected());
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const audit = spawnCli(["audit", "--federation", federationFile, "--state", join(folder, "state"), "--node", `127.0.0.1:${(silent.address() as AddressInfo).port}`]);
    // Interrupted once it waits on the node (a signal sent before the audit had started would stop it whatever the code).
    await reached;
    audit.child.kill("SIGINT");
    await audit.exited;
    // Stopped by the signal itself: a handler that kept the process had it wait out the node's 30 s deadline.
    expect(audit.child.signalCode).toBe("SIGINT");
  } finally {
    silent.close();
  }
});
