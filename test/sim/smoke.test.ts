/**
 * Goal: four replicas on a perfect simulated network agree on one log and commit every statement.
 * Method: one seed, no faults; statements submitted at every node over time; the run ends when all
 * are committed everywhere.
 */
import { Cluster } from "./cluster";
import { runUntil } from "./runLoop";

test("four replicas without faults commit every statement, in the same order everywhere", async () => {
  const cluster = new Cluster({
    seed: 7,
    validators: 4,
    faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 10, dropRate: 0, duplicateRate: 0 },
    diskWriteDelayMs: 1,
  });
  for (const node of cluster.nodes) cluster.startAt(0, node);
  for (let i = 0; i < 20; i++) cluster.queue.schedule(50 + i * 37, "submit", () => cluster.submitAt(cluster.nodes[i % 4]!, 3), "workload");
  const done = (): boolean =>
    cluster.failures.length > 0 || (cluster.liveReplicas().length === 4 && cluster.liveReplicas().every((replica) => Number(replica.ledger.treeSize) === 60));
  const result = await runUntil(cluster.queue, done, 60_000);
  expect(cluster.failures).toEqual([]);
  expect(result.reason).toBe("condition");
  const roots = cluster.liveReplicas().map((replica) => replica.ledger.head.range.root().toString("hex"));
  expect(new Set(roots).size).toBe(1);
  expect(cluster.acknowledgements.length).toBe(60);
  for (const replica of cluster.liveReplicas()) replica.close();
}, 60_000);
