/**
 * Goal: what an auditor relies on holds at every node while the federation is busy: every
 * checkpoint any node serves carries valid signatures of at least a quorum of validators, each
 * node's log only grows (consecutive checkpoints are consistent), and no two nodes show different
 * histories (equal roots at equal sizes, and all checkpoints of all nodes form one chain).
 * Method: four real `hashfed node` processes on loopback; members submit at all four nodes while a
 * poller reads Log.GetCheckpoint at every node every 50 ms, verifies each note with
 * verifyCosignedCheckpoint, and afterwards checks every step between distinct checkpoints with
 * Log.GetConsistencyProof and verifyConsistency, per node and across nodes.
 */
import { rm } from "node:fs/promises";
import { localFederation, type NodeProcess, SHORT_TIMEOUTS, type SoloSetup, startNodeProcess } from "../support/cluster";
import { CheckpointAuditor, Load, NodeClients, readLogs, rootOf, waitForAgreement, waitForSize } from "../support/federationNet";

let members: SoloSetup[];
let processes: NodeProcess[] = [];
let nodes: NodeClients[] = [];

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example", "c.example", "d.example"], SHORT_TIMEOUTS);
  processes = await Promise.all(members.map((member) => startNodeProcess(member)));
  nodes = members.map((member) => new NodeClients(member));
}, 30_000);

afterAll(async () => {
  for (const node of nodes) node.close();
  await Promise.all(processes.map((node) => node.kill("SIGTERM")));
  if (members !== undefined) await rm(members[0]!.folder, { recursive: true, force: true });
});

test("under load, every checkpoint served is quorum-cosigned, and all checkpoints of all nodes form one consistent history", async () => {
  const federation = members[0]!.federation;
  const auditor = new CheckpointAuditor(federation, nodes);
  const load = new Load(nodes);
  try {
    await waitForSize(nodes, 150n, 30_000, "every node to commit 150 statements under load");
  } finally {
    await load.stop();
  }
  const size = await waitForAgreement(nodes, 15_000);
  // One more round of polls so the final, agreed checkpoint is among those audited.
  const polls = auditor.polls;
  while (auditor.polls < polls + 2) await new Promise((resolve) => setTimeout(resolve, 20));
  await auditor.stop();

  expect(await auditor.check()).toEqual([]);
  // The audit saw the logs grow at every node, not one checkpoint each.
  for (const member of members) expect(auditor.seen.get(member.key.name)!.length).toBeGreaterThanOrEqual(3);
  // The agreed checkpoint commits to exactly the entries every node serves.
  for (const log of await readLogs(nodes)) {
    expect(log.checkpoint.checkpoint.size).toBe(size);
    expect(rootOf(log.entries).equals(log.checkpoint.checkpoint.root)).toBe(true);
  }
  expect(load.acknowledged.length).toBeGreaterThan(0);
}, 60_000);
