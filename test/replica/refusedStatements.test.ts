/**
 * Goal: statements the log refuses cannot stall the federation or go round it for good. A member
 * that floods the mempools with statements the log will refuse (retractions of an entry on no log)
 * does not keep honest statements behind them out of batches: a proposer had looked at the oldest
 * batchEntriesMax only, proposed nothing when none of them fitted, and the honest statement waited
 * for rounds that timed out one after another. And a statement that does what one just committed
 * did (a second retraction of an entry) leaves every node's mempool: validators had dropped it only
 * when they proposed, and sent it to one another again, so that it came back for good and the
 * height ran empty rounds with ever longer timeouts.
 * Method: the simulator's cluster of four real replicas on virtual time, without faults; the
 * statements submitted at a replica as its node's intake would (found by a review's scenarios).
 */
import type { StatementId } from "../../src/statements";
import { Cluster } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";
import { StatementMaker } from "../support/statements";

const PERFECT = { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 };

test("a flood of statements the log refuses does not keep an honest statement out of the next batches", async () => {
  const cluster = new Cluster({
    seed: 7,
    validators: 4,
    faults: PERFECT,
    diskWriteDelayMs: 2,
    parameters: { batchEntriesMax: 100, mempoolStatementsMax: 10_000, mempoolPerSubmitterMax: 5_000, submissionsPerRequestMax: 100 },
  });
  const maker = new StatementMaker(cluster.federation, "flood");
  const [honest, , , flooder] = cluster.nodes;
  for (const node of cluster.nodes) cluster.startAt(0, node);
  await runUntil(cluster.queue, () => false, 2_000);
  const refused: string[] = [];
  cluster.queue.schedule(cluster.queue.now + 1, "flood", () => {
    const flood = Array.from({ length: 5_000 }, () => maker.retract(flooder!.key, Buffer.alloc(32, 7) as StatementId));
    for (const wait of cluster.replicaOf(flooder!)!.submit(flood)) wait.catch((error: { code: string }) => refused.push(error.code));
  }, "workload");
  const start = cluster.queue.now + 50;
  let committedAfterMs: number | undefined;
  cluster.queue.schedule(start, "honest", () => {
    void cluster.replicaOf(honest!)!.submit([maker.add(honest!.key)])[0]!.then(() => (committedAfterMs = cluster.queue.now - start));
  }, "workload");
  await runUntil(cluster.queue, () => committedAfterMs !== undefined || cluster.failures.length > 0, start + 60_000);
  expect(cluster.failures).toEqual([]);
  // Within the first heights (about 18 ms without the flood; before, not within 600 s).
  expect(committedAfterMs).toBeLessThan(5_000);
  cluster.close();
});

test("a second retraction of an entry leaves every node's mempool once the first commits, and the federation goes idle", async () => {
  const cluster = new Cluster({ seed: 8, validators: 4, faults: PERFECT, diskWriteDelayMs: 2 });
  const maker = new StatementMaker(cluster.federation, "twice");
  const [submitter, other] = cluster.nodes;
  for (const node of cluster.nodes) cluster.startAt(0, node);
  await runUntil(cluster.queue, () => false, 1_000);
  const added = maker.add(submitter!.key);
  let addedAt: number | undefined;
  cluster.queue.schedule(cluster.queue.now + 1, "add", () => void cluster.replicaOf(submitter!)!.submit([added])[0]!.then((index) => (addedAt = index)), "workload");
  await runUntil(cluster.queue, () => addedAt !== undefined, cluster.queue.now + 10_000);
  // Two retractions of it, signed apart, each entering at a different node.
  const outcomes: string[] = [];
  cluster.queue.schedule(cluster.queue.now + 1, "retract twice", () => {
    for (const [node, retraction] of [[submitter!, maker.retract(submitter!.key, added.signed.id)], [other!, maker.retract(submitter!.key, added.signed.id)]] as const) {
      void cluster.replicaOf(node)!.submit([retraction])[0]!.then(
        () => outcomes.push("committed"),
        (error: { code: string }) => outcomes.push(error.code),
      );
    }
  }, "workload");
  await runUntil(cluster.queue, () => outcomes.length === 2, cluster.queue.now + 10_000);
  expect(outcomes.sort()).toEqual(["RETRACT_TWICE", "committed"]);
  // Some seconds later: nothing pending anywhere (a second retraction going round had kept the height running empty rounds).
  await runUntil(cluster.queue, () => false, cluster.queue.now + 10_000);
  expect(cluster.liveReplicas().map((replica) => replica.mempool.size)).toEqual([0, 0, 0, 0]);
  expect(cluster.failures).toEqual([]);
  cluster.close();
});
