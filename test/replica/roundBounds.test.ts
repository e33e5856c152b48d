/**
 * Goal: one Byzantine validator cannot make a node hold messages without bound within a height. Its
 * votes and proposals of rounds beyond the next count for at most two such rounds at a time, its
 * precommits for batches nobody showed are held up to a bound, and an equivocating proposer's batches
 * are taken for two values a round. Correct validators ahead of a lagging node still pull it along:
 * f+1 of them in one round make it skip there (L55), again and again as they move on.
 * Method: one validator of four, the test playing its peers. What the node holds of a validator is
 * what it echoes to that validator listening after a start (every message of it the node holds);
 * the node's round is the one its statuses report.
 */
import { buildBatch } from "../../src/batch";
import { proposerOf, signProposal, signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import type { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { decodePeerMessage, encodePeerMessage } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { waitFor } from "../support/federationNet";
import { closedAfterEach, echoedTo, fourValidators, proposalMessage, type ReplicaOutbox, settled, validatingAtHeightOne } from "../support/replicaHarness";
import type { TestMember } from "../support/statements";

const validators = fourValidators("round-bounds");
const { fixture: four, proposer, others, statements } = validators;
const names = four.validators.map((each) => each.signer.name);
const NONCE = 91n;

const opened = closedAfterEach();
const validating = (): ReturnType<typeof validatingAtHeightOne> => validatingAtHeightOne(validators, opened);

/** Every message of `member` the node holds at height 1. */
async function heldOf(replica: Replica, outbox: ReplicaOutbox, member: TestMember): Promise<PeerMessage[]> {
  await settled(replica);
  return echoedTo(replica, outbox, member, 1n, NONCE);
}

function vote(member: TestMember, type: VoteType, round: number, valueId: Buffer): Buffer {
  const signed = signVote(member.signer, { federationId: four.federation.id, type, height: 1n, round, valueId, validator: member.signer.name, checkpointSignature: Buffer.alloc(0) });
  return encodePeerMessage({ kind: { $case: "vote", value: signed } });
}

/** Whether the node has reported being in `round` of height 1 in a status. */
function reportsRound(outbox: ReplicaOutbox, round: number): true | undefined {
  return outbox.sent.some(({ message }) => message.kind?.$case === "status" && message.kind.value.height === 1n && message.kind.value.round === round) ? true : undefined;
}

const flooder = others.find((each) => each !== proposer)!;

test("a validator's prevotes for a thousand rounds ahead: the node holds those of two of them", async () => {
  const { replica, outbox } = await validating();
  for (let round = 2; round < 1_002; round++) replica.receive(flooder.signer.name, vote(flooder, VoteType.VOTE_TYPE_PREVOTE, round, Buffer.alloc(0)));
  const held = await heldOf(replica, outbox, flooder);
  expect(held.map((message) => message.kind?.$case)).toEqual(["vote", "vote"]);
});

test("a proposer's proposals for a thousand of its rounds ahead: the node holds those of two of them", async () => {
  const { replica, outbox } = await validating();
  const batch = buildBatch(four.federation, replica.ledger.state, replica.ledger.head, [statements.add(flooder.key)], { proposer: flooder.signer.name, proposerTimeMs: 1n }).batch!;
  const rounds = Array.from({ length: 4_000 }, (_, round) => round + 2).filter((round) => proposerOf(names, 1n, round) === flooder.signer.name);
  for (const round of rounds) {
    const proposal = signProposal(flooder.signer, { federationId: four.federation.id, height: 1n, round, validRound: -1, valueId: batch.id, proposer: flooder.signer.name });
    replica.receive(flooder.signer.name, proposalMessage(proposal, batch));
  }
  const held = await heldOf(replica, outbox, flooder);
  expect(held.filter((message) => message.kind?.$case === "proposal")).toHaveLength(2);
});

test("a validator's precommits for a hundred batches nobody showed: the node holds sixteen", async () => {
  const { replica, outbox } = await validating();
  for (let made = 0; made < 100; made++) replica.receive(flooder.signer.name, vote(flooder, VoteType.VOTE_TYPE_PRECOMMIT, 0, Buffer.alloc(32, made)));
  const held = await heldOf(replica, outbox, flooder);
  expect(held.filter((message) => message.kind?.$case === "vote")).toHaveLength(16);
});

test("an equivocating proposer's batches: the node asks for two of one round's, not for every one", async () => {
  const { replica, outbox } = await validating();
  for (let made = 0; made < 10; made++) {
    // Statements this node never received: each batch taken is asked for whole.
    const batch = buildBatch(four.federation, replica.ledger.state, replica.ledger.head, [statements.add(proposer.key)], { proposer: proposer.signer.name, proposerTimeMs: BigInt(made) }).batch!;
    const proposal = signProposal(proposer.signer, { federationId: four.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch.id, proposer: proposer.signer.name });
    replica.receive(proposer.signer.name, proposalMessage(proposal, batch));
  }
  await settled(replica);
  const asked = new Set(outbox.sent.flatMap(({ message }) => (message.kind?.$case === "proposedBatchRequest" ? [Buffer.from(message.kind.value.valueId).toString("hex")] : [])));
  expect(asked.size).toBe(2);
});

test("votes with forged signatures take no validator's rounds ahead", async () => {
  const { replica, outbox } = await validating();
  const ahead = others.slice(0, 2);
  const relay = others.find((each) => !ahead.includes(each))!;
  for (const member of ahead) {
    for (const round of [10, 11]) {
      const forged = decodePeerMessage(vote(member, VoteType.VOTE_TYPE_PREVOTE, round, Buffer.alloc(0)));
      if (forged.kind?.$case !== "vote") throw new Error("a vote");
      forged.kind.value.signature[0] ^= 1;
      replica.receive(relay.signer.name, encodePeerMessage(forged));
    }
  }
  for (const member of ahead) replica.receive(member.signer.name, vote(member, VoteType.VOTE_TYPE_PREVOTE, 6, Buffer.alloc(0)));
  await waitFor("the node at round 6", async () => reportsRound(outbox, 6), 5_000);
});

test("f+1 validators ahead pull a lagging node to their round, and again once it is there and they have moved on", async () => {
  const { replica, outbox } = await validating();
  const ahead = others.slice(0, 2);
  const reports = (round: number): true | undefined => reportsRound(outbox, round);
  for (const member of ahead) for (const round of [3, 4]) replica.receive(member.signer.name, vote(member, VoteType.VOTE_TYPE_PREVOTE, round, Buffer.alloc(0)));
  await waitFor("the node at round 4", async () => reports(4), 5_000);
  // Rounds 3 and 4 filled both rounds ahead of each; the node reached them, so they count against nobody.
  for (const member of ahead) replica.receive(member.signer.name, vote(member, VoteType.VOTE_TYPE_PREVOTE, 8, Buffer.alloc(0)));
  await waitFor("the node at round 8", async () => reports(8), 5_000);
});
