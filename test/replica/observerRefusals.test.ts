/**
 * Goal: an observer's member learns when a statement it submitted can no longer go on the log, and
 * the statement leaves the observer's mempool. Validators learn it when they propose; an observer
 * proposes nothing, and its statement waited forever.
 * Method: four simulated validators and one observer on a network without faults, in virtual time.
 * The observer's member adds a signal, then submits two retractions of it at once: one commits, the
 * other is refused (its target is retracted already).
 */
import { HashfedError } from "../../src/errors";
import { Cluster } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";
import { StatementMaker } from "../support/statements";

test("a second retraction of one entry is refused at the observer that submitted it", async () => {
  const cluster = new Cluster({ seed: 21, validators: 4, observers: 1, faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 }, diskWriteDelayMs: 5 });
  const observer = cluster.nodes.find((node) => node.name === "o0.example")!;
  const maker = new StatementMaker(cluster.federation, "observer-refusals");
  for (const node of cluster.nodes) cluster.startAt(0, node);
  const outcomes: (number | HashfedError)[] = [];
  const settle = (wait: Promise<number>): void => {
    wait.then(
      (logIndex) => outcomes.push(logIndex),
      (error: HashfedError) => outcomes.push(error),
    );
  };
  const added = maker.add(observer.key);
  cluster.queue.schedule(50, "submit", () => cluster.replicaOf(observer)!.submit([added]).forEach(settle), "workload");
  expect((await runUntil(cluster.queue, () => cluster.failures.length > 0 || outcomes.length === 1, 10_000)).reason).toBe("condition");
  expect(outcomes).toEqual([0]);
  const retractions = [maker.retract(observer.key, added.signed.id), maker.retract(observer.key, added.signed.id)];
  cluster.queue.schedule(cluster.queue.now + 1, "submit", () => cluster.replicaOf(observer)!.submit(retractions).forEach(settle), "workload");
  const result = await runUntil(cluster.queue, () => cluster.failures.length > 0 || outcomes.length === 3, cluster.queue.now + 10_000);
  expect(cluster.failures).toEqual([]);
  expect(result.reason).toBe("condition");
  expect(outcomes.filter((outcome) => outcome === 1)).toHaveLength(1);
  const refused = outcomes.filter((outcome): outcome is HashfedError => outcome instanceof HashfedError);
  expect(refused.map((error) => error.kind)).toEqual(["precondition"]);
  expect(cluster.replicaOf(observer)!.mempool.size).toBe(0);
  cluster.close();
}, 60_000);
