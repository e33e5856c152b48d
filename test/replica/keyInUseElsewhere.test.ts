/**
 * Goal: two nodes running with one member's key do not go on signing conflicting votes. A key run
 * on a second machine (an operator's mix-up) had signed as that member beside its own node: each
 * adopted the other's messages where they came first and signed against them where they crossed,
 * and every node kept evidence of equivocation against a member that did nothing wrong (found by
 * a review that ran a node with another member's key).
 * Method: one real replica, validating at height 1 after its listening; prevotes under its own key
 * that it never signed, sent by a peer while answers to its listening may still come, and after.
 */
import { signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import { waitFor } from "../support/federationNet";
import { fourValidators, joinAtHeightOne, ReplicaOutbox, settled } from "../support/replicaHarness";

const { fixture, self, others } = fourValidators("key-in-use-elsewhere");
const STATUS_INTERVAL_MS = 20;

function ownPrevote(round: number): Buffer {
  const vote = signVote(self.signer, { federationId: fixture.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 1n, round, valueId: Buffer.alloc(0), validator: self.signer.name, checkpointSignature: Buffer.alloc(0) });
  return encodePeerMessage({ kind: { $case: "vote", value: vote } });
}

test("a message under its own key that it never signed is adopted while answers to its listening may come, and stops the node after", async () => {
  const fatal: unknown[] = [];
  const outbox = new ReplicaOutbox(() => undefined);
  const replica = await Replica.open({
    federation: fixture.federation,
    signer: self.signer,
    kv: new MemoryKeyValueStore(),
    timers: systemTimers,
    transport: outbox,
    tuning: { statusIntervalMs: STATUS_INTERVAL_MS },
    onFatal: (error) => fatal.push(error),
  });
  try {
    await joinAtHeightOne(replica, outbox, others);
    // Just after joining: what it signed before its disk was restored, on the way from a slow peer.
    replica.receive(others[0]!.signer.name, ownPrevote(0));
    await settled(replica);
    expect(fatal).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20 * STATUS_INTERVAL_MS));
    replica.receive(others[0]!.signer.name, ownPrevote(1));
    await waitFor("the node to stop", async () => (fatal.length > 0 ? true : undefined), 5_000);
    expect(fatal[0]).toMatchObject({
      code: "KEY_IN_USE_ELSEWHERE",
      message: `another node signs with ${self.signer.name}'s key: a peer sent a prevote of 1/1 under it that this node never signed; stopping, so that the two do not sign conflicting votes. Run one node per member key`,
    });
  } finally {
    replica.close();
    await replica.idle();
  }
});
