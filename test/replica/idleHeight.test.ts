/**
 * Goal: a height with nothing to commit stays idle whatever one Byzantine validator sends, so that
 * the first statement after a quiet spell commits in milliseconds. One nil prevote of a Byzantine
 * validator at an idle height had set the correct validators running empty rounds among
 * themselves, each round's timeouts longer than the last: a statement submitted after an idle hour
 * waited up to 40 s (found by a review of what a Byzantine member can do).
 * Method: the simulator's cluster of four real replicas on virtual time, without faults; the fourth
 * validator is silent but for that vote.
 */
import { signVote } from "../../src/consensus";
import { KeySigner } from "../../src/crypto";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Cluster } from "../sim/cluster";
import { describeReplica } from "../sim/inspect";
import { runUntil } from "../sim/runLoop";

const IDLE_MS = 600_000;

test("one Byzantine vote at an idle height starts no rounds, and the next statement commits at once", async () => {
  const cluster = new Cluster({
    seed: 11,
    validators: 4,
    faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 },
    diskWriteDelayMs: 1,
    parameters: { timeoutProposeMs: 1000, timeoutPrevoteMs: 1000, timeoutPrecommitMs: 1000, timeoutDeltaMs: 500 },
  });
  const byzantine = cluster.nodes[3]!;
  const correct = cluster.nodes.slice(0, 3);
  cluster.setOutboundFilter(byzantine.name, () => undefined);
  for (const node of cluster.nodes) cluster.startAt(0, node);
  const height = (): (bigint | undefined)[] => correct.map((node) => cluster.replicaOf(node)?.ledger.head.height);
  cluster.queue.schedule(2_000, "submit", () => cluster.submitAt(correct[0]!, 1), "workload");
  await runUntil(cluster.queue, () => height().every((at) => at === 1n), 20_000);
  cluster.queue.schedule(30_000, "byzantine vote", () => {
    const vote = signVote(new KeySigner(byzantine.key), { federationId: cluster.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 2n, round: 0, valueId: Buffer.alloc(0), validator: byzantine.name, checkpointSignature: Buffer.alloc(0) });
    for (const node of correct) cluster.network.send(byzantine.name, node.name, encodePeerMessage({ kind: { $case: "vote", value: vote } }));
  }, "byzantine");
  await runUntil(cluster.queue, () => false, IDLE_MS);
  // At round 32 after ten minutes, before.
  for (const node of correct) expect(describeReplica(cluster.replicaOf(node)!)).toMatch(/at 2\/0 step propose.*, idle,/);
  cluster.queue.schedule(IDLE_MS + 1, "submit", () => cluster.submitAt(correct[1]!, 1), "workload");
  await runUntil(cluster.queue, () => height().every((at) => at === 2n), IDLE_MS + 60_000);
  expect(cluster.failures).toEqual([]);
  expect(cluster.queue.now - IDLE_MS).toBeLessThan(200);
  cluster.close();
}, 60_000);
