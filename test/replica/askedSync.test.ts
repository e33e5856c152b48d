/**
 * Goal: a node takes synced heights and certificates only from the peer it asked (an answer to a
 * sync by the heights asked, not taken for a fork check's from the same peer), answers a peer's
 * sync requests at most 16 times a status interval (a peer catching up asks after each answer),
 * and keeps one piece of evidence per equivocation slot. Unasked, any member could have had it
 * check a batch's every signature, compare made-up certificates for every past height (each naming
 * "double signers", kept forever), or read, decode and encode sixteen batches for a request of a
 * few bytes, as often as its rate limit allowed.
 * Method: one validator of four, the test playing its peers: a committed height 1 made by three of
 * them, sent unasked and then asked for; a peer that claims heights and never answers.
 */
import { buildBatch } from "../../src/batch";
import { signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { PeerStatus } from "../../src/gen/hashfed/v1/peer";
import { encodePeerMessage, wireBatch } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { waitFor } from "../support/federationNet";
import { systemTimers } from "../../src/node/environment";
import { closedAfterEach, fourValidators, joinAtHeightOne, openReplica, ReplicaOutbox, settled, validatingAtHeightOne } from "../support/replicaHarness";
import { certificateFor, precommitsBy } from "../support/statements";

const validators = fourValidators("asked-sync");
const { fixture: four, proposer, others, statements } = validators;
const opened = closedAfterEach();
const peer = others[0]!;

/** The height after the replica's head, committed by `signers` (the three peers): the sync response that carries it. */
function nextHeight(replica: Replica, signers = others): Buffer {
  const batch = buildBatch(four.federation, replica.ledger.state, replica.ledger.head, [statements.add(proposer.key)], { proposer: proposer.signer.name, proposerTimeMs: 1n }).batch!;
  const certificate = certificateFor(batch, precommitsBy(four.federation, signers, batch));
  return encodePeerMessage({ kind: { $case: "syncResponse", value: { batches: [{ batch: wireBatch(batch), certificate }] } } });
}
const heightOne = nextHeight;

/**
 * A status that reports `committedHeight` (default 1) committed, with a batch id no node has: the
 * node asks its sender for the heights it lacks, or at its own height compares certificates.
 */
function committedOne(committedHeight = 1n): Buffer {
  const status = PeerStatus.fromPartial({ height: committedHeight + 1n, committedHeight, committedBatchId: Buffer.alloc(32, 1) });
  return encodePeerMessage({ kind: { $case: "status", value: status } });
}

function sentTo(outbox: ReplicaOutbox, to: string, kind: string): number {
  return outbox.sent.filter((sent) => sent.to === to && sent.message.kind?.$case === kind).length;
}

test("a synced height sent unasked is not taken; asked for, it is", async () => {
  const { replica, outbox } = await validatingAtHeightOne(validators, opened);
  const response = heightOne(replica);
  replica.receive(peer.signer.name, response);
  await settled(replica);
  expect(replica.ledger.head.height).toBe(0n);

  replica.receive(peer.signer.name, committedOne());
  await waitFor("the sync request", async () => (sentTo(outbox, peer.signer.name, "syncRequest") > 0 ? true : undefined), 5_000);
  replica.receive(peer.signer.name, response);
  await waitFor("height 1 committed", async () => (replica.ledger.head.height === 1n ? true : undefined), 5_000);
});

test("a peer's sync requests are answered at most 16 times a status interval", async () => {
  const { replica, outbox } = await validatingAtHeightOne(validators, opened);
  replica.receive(peer.signer.name, committedOne());
  await waitFor("the sync request", async () => (sentTo(outbox, peer.signer.name, "syncRequest") > 0 ? true : undefined), 5_000);
  replica.receive(peer.signer.name, heightOne(replica));
  await waitFor("height 1 committed", async () => (replica.ledger.head.height === 1n ? true : undefined), 5_000);

  const request = encodePeerMessage({ kind: { $case: "syncRequest", value: { fromHeight: 1n, count: 16 } } });
  for (let i = 0; i < 50; i++) replica.receive(peer.signer.name, request);
  await settled(replica);
  expect(sentTo(outbox, peer.signer.name, "syncResponse")).toBe(16);
});

test("a validator that signs many prevotes in one round is kept as one piece of evidence", async () => {
  const { replica } = await validatingAtHeightOne(validators, opened);
  for (let made = 0; made < 20; made++) {
    const prevote = signVote(peer.signer, { federationId: four.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 1n, round: 0, valueId: Buffer.alloc(32, made), validator: peer.signer.name, checkpointSignature: Buffer.alloc(0) });
    replica.receive(peer.signer.name, encodePeerMessage({ kind: { $case: "vote", value: prevote } }));
  }
  await settled(replica);
  expect(replica.evidence).toHaveLength(1);
});

test("a peer that lets a sync request lapse is passed over: the next request goes to another peer", async () => {
  const { replica, outbox } = await validatingAtHeightOne(validators, opened);
  const liar = others[1]!;
  replica.receive(liar.signer.name, committedOne(5n));
  await waitFor("the request to the liar", async () => (sentTo(outbox, liar.signer.name, "syncRequest") > 0 ? true : undefined), 5_000);
  // Four status intervals without an answer; then both claim heights the node lacks, the liar first.
  await new Promise((resolve) => setTimeout(resolve, 900));
  replica.receive(liar.signer.name, committedOne(5n));
  replica.receive(peer.signer.name, committedOne());
  await waitFor("a request to the other peer", async () => (sentTo(outbox, peer.signer.name, "syncRequest") > 0 ? true : undefined), 5_000);
  expect(sentTo(outbox, liar.signer.name, "syncRequest")).toBe(1);
});

test("a fork check's answer does not take the place of a sync's, asked of the same peer", async () => {
  const { replica, outbox } = await validatingAtHeightOne(validators, opened);
  replica.receive(peer.signer.name, committedOne());
  await waitFor("the sync request", async () => (sentTo(outbox, peer.signer.name, "syncRequest") > 0 ? true : undefined), 5_000);
  const one = heightOne(replica);
  replica.receive(peer.signer.name, one);
  await waitFor("height 1 committed", async () => (replica.ledger.head.height === 1n ? true : undefined), 5_000);

  // Another id at height 1 (a fork check of height 1), then height 2 claimed (a sync from 2): both asked of one peer.
  replica.receive(peer.signer.name, committedOne(1n));
  replica.receive(peer.signer.name, committedOne(2n));
  await waitFor("both requests", async () => (sentTo(outbox, peer.signer.name, "syncRequest") === 3 ? true : undefined), 5_000);
  replica.receive(peer.signer.name, one);
  replica.receive(peer.signer.name, nextHeight(replica));
  await waitFor("height 2 committed", async () => (replica.ledger.head.height === 2n ? true : undefined), 5_000);
});

test("a fork is reported only on a quorum's certificate for another batch, not on a peer's made-up one", async () => {
  const logged: string[] = [];
  const outbox = new ReplicaOutbox(() => undefined);
  const replica = await openReplica({ federation: four.federation, signer: validators.self.signer, timers: systemTimers, transport: outbox, log: (line) => logged.push(line) });
  opened.push(replica);
  await joinAtHeightOne(replica, outbox, others);
  replica.receive(peer.signer.name, committedOne());
  await waitFor("the sync request", async () => (sentTo(outbox, peer.signer.name, "syncRequest") > 0 ? true : undefined), 5_000);
  const genesis = { state: replica.ledger.state, head: replica.ledger.head };
  replica.receive(peer.signer.name, heightOne(replica));
  await waitFor("height 1 committed", async () => (replica.ledger.head.height === 1n ? true : undefined), 5_000);
  /** Another batch at height 1, certified by `signers`, as the answer to a fork check of height 1. */
  const otherHeightOne = (signers: typeof others): Buffer => {
    const batch = buildBatch(four.federation, genesis.state, genesis.head, [statements.add(proposer.key)], { proposer: proposer.signer.name, proposerTimeMs: 2n }).batch!;
    return encodePeerMessage({ kind: { $case: "syncResponse", value: { batches: [{ batch: wireBatch(batch), certificate: certificateFor(batch, precommitsBy(four.federation, signers, batch)) }] } } });
  };
  const forked = (): string[] => logged.filter((line) => line.includes("the log forked"));
  // The peer's own precommit alone: it had been reported as a fork, "naming 0 double signers".
  replica.receive(peer.signer.name, committedOne(1n));
  await waitFor("the fork check", async () => (sentTo(outbox, peer.signer.name, "syncRequest") === 2 ? true : undefined), 5_000);
  replica.receive(peer.signer.name, otherHeightOne([peer]));
  await waitFor("its double sign kept as evidence", async () => (replica.evidence.length === 1 ? true : undefined), 5_000);
  expect(forked()).toEqual([]);
  // Three validators' (all three signed height 1 too), from another peer: a fork, naming them.
  const second = others[1]!;
  replica.receive(second.signer.name, committedOne(1n));
  await waitFor("the other peer's fork check", async () => (sentTo(outbox, second.signer.name, "syncRequest") === 1 ? true : undefined), 5_000);
  replica.receive(second.signer.name, otherHeightOne(others));
  await waitFor("the fork said", async () => (forked().length > 0 ? true : undefined), 5_000);
  expect(forked()).toEqual([`${validators.self.signer.name}: the log forked at height 1: a certificate for another batch, naming 3 double signers`]);
});
