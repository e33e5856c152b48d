/**
 * Goal: an observer's member learns when a statement it submitted can no longer go on the log, and
 * the statement leaves the observer's mempool. Validators learn it when they propose; an observer
 * proposes nothing, and its statement waited forever.
 * Method: four simulated validators and one observer on a network without faults, in virtual time.
 * The observer's member adds a signal, then submits two retractions of it at once: one commits, the
 * other is refused (its target is retracted already). Then it adds a live signal again.
 */
import { HashfedError } from "../../src/errors";
import { Cluster } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";
import { StatementMaker } from "../support/statements";

/** Four validators and an observer, started; `settle` records a submission's outcome in `outcomes`, in the order they come. */
function observerCluster(seedName: string) {
  const cluster = new Cluster({ seed: 21, validators: 4, observers: 1, faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 }, diskWriteDelayMs: 5 });
  const observer = cluster.nodes.find((node) => node.name === "o0.example")!;
  const maker = new StatementMaker(cluster.federation, seedName);
  for (const node of cluster.nodes) cluster.startAt(0, node);
  const outcomes: (number | HashfedError)[] = [];
  const settle = (wait: Promise<number>): void => {
    wait.then(
      (logIndex) => outcomes.push(logIndex),
      (error: HashfedError) => outcomes.push(error),
    );
  };
  return { cluster, observer, maker, outcomes, settle };
}

test("a second retraction of one entry is refused at the observer that submitted it", async () => {
  const { cluster, observer, maker, outcomes, settle } = observerCluster("observer-refusals");
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

test("an add of a signal its member has live is refused at once at the observer, and the validators stay idle; with a retraction of that entry beside it, it commits", async () => {
  const { cluster, observer, maker, outcomes, settle } = observerCluster("observer-live-signal");
  const value = Buffer.alloc(32, 7);
  const added = maker.add(observer.key, { value });
  cluster.queue.schedule(50, "submit", () => cluster.replicaOf(observer)!.submit([added]).forEach(settle), "workload");
  expect((await runUntil(cluster.queue, () => cluster.failures.length > 0 || outcomes.length === 1, 10_000)).reason).toBe("condition");
  expect(outcomes).toEqual([0]);
  // The same signal again, in a new statement (as one signed elsewhere comes): nothing else commits.
  cluster.queue.schedule(cluster.queue.now + 1, "submit", () => cluster.replicaOf(observer)!.submit([maker.add(observer.key, { value })]).forEach(settle), "workload");
  const result = await runUntil(cluster.queue, () => cluster.failures.length > 0 || outcomes.length === 2, cluster.queue.now + 10_000);
  expect(cluster.failures).toEqual([]);
  // It waited for good (validators took it back at every regossip and ran empty rounds, 22 in a minute).
  expect(result.reason).toBe("condition");
  expect(outcomes[1]).toMatchObject({ code: "SIGNAL_ALREADY_LIVE", message: `${observer.name} already has this sha256 signal on the log, live at log index 0; retract that entry to replace it` });
  await runUntil(cluster.queue, () => false, cluster.queue.now + 5_000);
  const validators = cluster.nodes.filter((node) => node !== observer).map((node) => cluster.replicaOf(node)!);
  expect(validators.map((replica) => [replica.ledger.head.height, replica.mempool.size])).toEqual(validators.map(() => [1n, 0]));
  // The add first, its entry's retraction second, in one submission: a replacement, which commits after the retraction.
  const replacement = maker.add(observer.key, { value });
  cluster.queue.schedule(cluster.queue.now + 1, "submit", () => cluster.replicaOf(observer)!.submit([replacement, maker.retract(observer.key, added.signed.id)]).forEach(settle), "workload");
  await runUntil(cluster.queue, () => cluster.failures.length > 0 || outcomes.length === 4, cluster.queue.now + 10_000);
  expect(cluster.failures).toEqual([]);
  expect(outcomes.slice(2).sort()).toEqual([1, 2]);
  expect(cluster.replicaOf(observer)!.ledger.state.retractedBy(0)).toBe(1);
  expect(cluster.replicaOf(observer)!.ledger.index.match("sha256", value, 0).map((hit) => hit.logIndex)).toEqual([2]);
  cluster.close();
}, 60_000);
