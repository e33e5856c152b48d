/**
 * Goal: the federation tolerates what it promises to tolerate with real processes, and stops
 * safely beyond that. (1) With one of four validators killed (SIGKILL) under load, commits go on;
 * restarted on its data folder, the node catches up and its log is byte for byte the others'.
 * (2) With two of four down there is no quorum: nothing commits (a submit to a live node does not
 * complete and the checkpoint size stays), no acknowledged statement is lost, and when one of the
 * two returns, progress resumes: the pending submit completes and all live nodes agree.
 * Throughout, an auditor polls every node's checkpoint: each must carry a quorum of signatures and
 * all must form one consistent history, across the crashes and restarts.
 * Method: four `hashfed node` processes on loopback with short consensus timeouts, shared by the
 * two tests (the second starts from the state the first leaves); load is a few small Submit
 * requests in flight at a time, every acknowledgement recorded; logs are compared with
 * Log.GetEntries and Log.GetCheckpoint, and acknowledgements checked against the entries.
 */
import { rm } from "node:fs/promises";
import type { SubmitResponse } from "../../src/gen/hashfed/v1/member";
import { localFederation, type NodeProcess, SHORT_TIMEOUTS, type SoloSetup, startNodeProcess } from "../support/cluster";
import {
  CheckpointAuditor,
  describeNodes,
  expectIdenticalLogs,
  Load,
  maxSize,
  NodeClients,
  sleep,
  unary,
  waitFor,
  waitForAgreement,
  waitForSize,
} from "../support/federationNet";
import { addSubmission, randomHex32 } from "../support/submissions";

let members: SoloSetup[];
const processes = new Map<string, NodeProcess>();
let nodes: NodeClients[] = [];
let auditor: CheckpointAuditor | undefined;
/** Every acknowledgement any member received in this file, across both tests. */
const acknowledged: Load["acknowledged"] = [];

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example", "c.example", "d.example"], SHORT_TIMEOUTS);
  const started = await Promise.all(members.map((member) => startNodeProcess(member)));
  members.forEach((member, i) => processes.set(member.key.name, started[i]!));
  nodes = members.map((member) => new NodeClients(member));
  auditor = new CheckpointAuditor(members[0]!.federation, nodes);
}, 30_000);

afterAll(async () => {
  await auditor?.stop();
  for (const node of nodes) node.close();
  await Promise.all([...processes.values()].map((node) => node.kill("SIGTERM")));
  if (members !== undefined) await rm(members[0]!.folder, { recursive: true, force: true });
});

const [A, B, C, D] = [0, 1, 2, 3];

async function kill9(index: number): Promise<void> {
  await processes.get(members[index]!.key.name)!.kill("SIGKILL");
}

async function restart(index: number): Promise<void> {
  processes.set(members[index]!.key.name, await startNodeProcess(members[index]!));
}

test("one of four killed with SIGKILL under load: commits continue; restarted, it catches up and its log equals the others'", async () => {
  const live = [nodes[A]!, nodes[B]!, nodes[C]!];
  const load = new Load(nodes);
  try {
    await waitForSize(nodes, 40n, 20_000, "the federation to commit 40 statements under load");
    await kill9(D);
    const atKill = await maxSize(live);
    await waitForSize(live, atKill + 60n, 20_000, `A, B and C to commit 60 more statements (past ${atKill}) with D killed`);
    // What an operator of A sees: linked to B and C, not to D, and committing.
    const names = members.map((member) => member.key.name);
    const seenByA = await waitFor("A's status to show D gone", async () => {
      const status = await unary(nodes[A]!.member, nodes[A]!.member.status, {});
      return status.peersConnected.includes(names[D]!) ? undefined : status;
    }, 10_000);
    expect(seenByA.peersConnected).toEqual([names[B], names[C]]);
    expect(seenByA.lastCommitMsAgo).toBeDefined();
    const beforeRestart = await maxSize(live);
    await restart(D);
    await waitForSize([nodes[D]!], beforeRestart, 20_000, `the restarted D to catch up to size ${beforeRestart}`);
    // D now takes part again: the federation commits more with D among the four.
    const caughtUp = await maxSize(nodes);
    await waitForSize(nodes, caughtUp + 30n, 20_000, `all four to commit 30 more statements after D caught up (past ${caughtUp})`);
  } finally {
    await load.stop();
    acknowledged.push(...load.acknowledged);
  }
  await expectIdenticalLogs(nodes, acknowledged);
}, 60_000);

test("two of four down: nothing commits and nothing acknowledged is lost; when one returns, the pending submit completes and the live nodes agree", async () => {
  const [a, b, c] = [nodes[A]!, nodes[B]!, nodes[C]!];
  const load = new Load([a, b]);
  let pending: { response?: SubmitResponse; error?: Error } = {};
  try {
    await waitForSize([a, b], (await maxSize([a, b])) + 20n, 20_000, "A and B to commit 20 more statements under load");
    await Promise.all([kill9(C), kill9(D)]);
    // Whatever was being decided as C and D died has settled: A and B stand at the same checkpoint.
    const stuckAt = await waitForAgreement([a, b], 10_000);

    const value = randomHex32();
    void unary(a.member, a.member.submit, { submissions: [addSubmission("pdq", value)] }, 60_000).then(
      (response) => (pending = { response }),
      (error: Error) => (pending = { error }),
    );
    // For three seconds: no commit anywhere, and the submit is not answered.
    for (let waited = 0; waited < 3000; waited += 250) {
      await sleep(250);
      expect(pending).toEqual({});
      expect([await a.sizeIfUp(), await b.sizeIfUp()]).toEqual([stuckAt, stuckAt]);
    }

    await restart(C);
    await waitFor("the submit pending at A to complete once C is back", async () => (pending.response !== undefined || pending.error !== undefined ? true : undefined), 30_000, () => describeNodes(nodes));
    expect(pending.error).toBeUndefined();
    const ack = pending.response!.acknowledgements[0]!;
    expect(ack.logIndex).toBeGreaterThanOrEqual(stuckAt);
    acknowledged.push({ statementId: Buffer.from(ack.statementId).toString("hex"), logIndex: ack.logIndex, via: "a.example" });
  } finally {
    await load.stop();
    acknowledged.push(...load.acknowledged);
  }
  await expectIdenticalLogs([a, b, c], acknowledged);
}, 60_000);

test("throughout both runs, every checkpoint any node served was quorum-cosigned and all of them form one consistent history", async () => {
  await auditor!.stop();
  expect(await auditor!.check()).toEqual([]);
  expect(auditor!.count).toBeGreaterThan(20);
}, 30_000);
