/**
 * Goal: two nodes running with one member's key do not go on signing conflicting votes, and a
 * validator restored from an old copy of its disk is not taken for such a second node. A key run
 * on a second machine (an operator's mix-up) had signed as that member beside its own node: each
 * adopted the other's messages where they came first and signed against them where they crossed,
 * and every node kept evidence of equivocation against a member that did nothing wrong (found by a
 * review that ran a node with another member's key). A first version stopped at the first message
 * under its key that it never signed, past its listening: a restored validator whose old message
 * only a peer cut off during that listening held then stopped when the partition healed (found by
 * the session's review).
 * Method: one real replica, validating at height 1 after its listening, fed prevotes under its own
 * key that it never signed, within its listening's last answers and after, at one height after
 * another; then the simulator's cluster of four real replicas with that restore and partition.
 */
import { signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import { Cluster } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";
import { waitFor } from "../support/federationNet";
import { fourValidators, joinAtHeightOne, ReplicaOutbox, settled } from "../support/replicaHarness";

const { fixture, self, others } = fourValidators("key-in-use-elsewhere");
const STATUS_INTERVAL_MS = 20;

function ownPrevote(height: bigint, round: number): Buffer {
  const vote = signVote(self.signer, { federationId: fixture.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height, round, valueId: Buffer.alloc(0), validator: self.signer.name, checkpointSignature: Buffer.alloc(0) });
  return encodePeerMessage({ kind: { $case: "vote", value: vote } });
}

test("messages under its own key that it never signed are adopted at one or two heights, and stop the node at a third", async () => {
  const fatal: unknown[] = [];
  const logged: string[] = [];
  const outbox = new ReplicaOutbox(() => undefined);
  const replica = await Replica.open({
    federation: fixture.federation,
    signer: self.signer,
    kv: new MemoryKeyValueStore(),
    timers: systemTimers,
    transport: outbox,
    tuning: { statusIntervalMs: STATUS_INTERVAL_MS },
    log: (line) => logged.push(line),
    onFatal: (error) => fatal.push(error),
  });
  const adopted = (): string[] => logged.filter((line) => line.includes("adopted a message it signed before its disk was restored"));
  try {
    await joinAtHeightOne(replica, outbox, others);
    // Just after joining, and after the listening's last answers: what it signed before a restore, held by peers.
    replica.receive(others[0]!.signer.name, ownPrevote(1n, 0));
    await settled(replica);
    await new Promise((resolve) => setTimeout(resolve, 20 * STATUS_INTERVAL_MS));
    replica.receive(others[0]!.signer.name, ownPrevote(1n, 1));
    replica.receive(others[1]!.signer.name, ownPrevote(2n, 0));
    await settled(replica);
    expect(fatal).toEqual([]);
    expect(adopted()).toEqual([`${self.signer.name}: adopted a message it signed before its disk was restored (1/0/prevote)`, `${self.signer.name}: adopted a message it signed before its disk was restored (1/1/prevote)`, `${self.signer.name}: adopted a message it signed before its disk was restored (2/0/prevote)`]);
    // A third height: another node signs with the key, height after height.
    replica.receive(others[0]!.signer.name, ownPrevote(3n, 0));
    await waitFor("the node to stop", async () => (fatal.length > 0 ? true : undefined), 5_000);
    expect(fatal[0]).toMatchObject({
      code: "KEY_IN_USE_ELSEWHERE",
      message: `another node signs with ${self.signer.name}'s key: peers sent messages under it that this node never signed, at heights 1, 2, 3; stopping, so that the two do not sign conflicting votes. Run one node per member key`,
    });
  } finally {
    replica.close();
    await replica.idle();
  }
});

test("a validator restored from an old disk takes back its old message from a peer cut off while it listened, and goes on", async () => {
  const cluster = new Cluster({ seed: 5, validators: 4, faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 }, diskWriteDelayMs: 1 });
  // v2 proposes height 2 round 0; only v3 hears it.
  const [v0, v1, v2, v3] = cluster.nodes as [(typeof cluster.nodes)[number], (typeof cluster.nodes)[number], (typeof cluster.nodes)[number], (typeof cluster.nodes)[number]];
  for (const node of cluster.nodes) cluster.startAt(0, node);
  const heads = (): (bigint | undefined)[] => cluster.nodes.map((node) => cluster.replicaOf(node)?.ledger.head.height);
  cluster.queue.schedule(500, "submit", () => cluster.submitAt(v0, 1), "workload");
  expect((await runUntil(cluster.queue, () => heads().every((height) => height === 1n), 10_000)).reason).toBe("condition");
  const committedOne = cluster.queue.now;
  cluster.queue.schedule(committedOne + 10, "backup", () => cluster.backUp(v2), "test");
  cluster.queue.schedule(committedOne + 20, "crash v0 and v1", () => {
    cluster.crash(v0);
    cluster.crash(v1);
  }, "test");
  cluster.queue.schedule(committedOne + 30, "submit at v2", () => cluster.submitAt(v2, 1), "workload");
  await runUntil(cluster.queue, () => false, committedOne + 1_000);
  // v2's disk is replaced by the old copy while v3 is cut off; v0 and v1 come back.
  cluster.queue.schedule(cluster.queue.now + 1, "restore", () => {
    cluster.crash(v2);
    cluster.network.isolate(v3.name);
    cluster.startNow(v0, v0.crashImage);
    cluster.startNow(v1, v1.crashImage);
    cluster.startNow(v2, v2.images[0]!.image);
  }, "test");
  await runUntil(cluster.queue, () => false, cluster.queue.now + 5_000);
  expect(cluster.replicaOf(v2)!.participation).toBe("validating");
  cluster.queue.schedule(cluster.queue.now + 1, "heal", () => cluster.network.heal(), "test");
  await runUntil(cluster.queue, () => false, cluster.queue.now + 10_000);
  // v2 had stopped as soon as v3 sent back its proposal of 2/0.
  expect(cluster.failures).toEqual([]);
  expect(heads().every((height) => height !== undefined && height >= 2n)).toBe(true);
  cluster.close();
}, 60_000);
