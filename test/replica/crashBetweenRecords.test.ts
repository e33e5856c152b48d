/**
 * Goal: a validator that crashes between the records of one consensus step (its prevote recorded,
 * its precommit, decided in the same step, not yet) precommits after its restart, and the height
 * commits with one other validator down. The state recorded with the prevote was the core's after
 * the whole step, at precommit, from which the core never signed the precommit nor timed out: with
 * exactly a quorum alive, the federation stalled for good (found by a review).
 * Method: one validator of four on a simulated disk whose writes after a chosen one never complete
 * (the crash comes first); the test plays its peers: three prevotes, then the proposal, make the
 * core prevote and precommit in one step. Restarted from what the disk held, with the third peer
 * down, it gets the proposal, the prevotes and two precommits again.
 */
import { buildBatch } from "../../src/batch";
import { signPrecommit, signProposal, signVote } from "../../src/consensus";
import { Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import { waitFor } from "../support/federationNet";
import { closedAfterEach, fourValidators, joinAtHeightOne, proposalMessage, ReplicaOutbox } from "../support/replicaHarness";
import type { TestMember } from "../support/statements";

const validators = fourValidators("crash-between-records");
const { fixture: four, proposer, self, others, statements } = validators;
const opened = closedAfterEach();

function openOn(kv: MemoryKeyValueStore, transport: ReplicaOutbox): Promise<Replica> {
  return Replica.open({
    federation: four.federation,
    signer: self.signer,
    timers: systemTimers,
    transport,
    kv,
    onFatal: (error) => {
      throw error;
    },
  });
}

/** The votes this validator sent (to any peer), each once. */
function ownVotes(outbox: ReplicaOutbox): string[] {
  const votes = outbox.sent.flatMap(({ message }) => {
    if (message.kind?.$case !== "vote") return [];
    const vote = Vote.decode(message.kind.value.vote);
    return vote.validator === self.signer.name ? [`${vote.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : "precommit"}/${vote.round}`] : [];
  });
  return [...new Set(votes)];
}

test("a validator that crashed between its prevote's record and its precommit's, decided in one step, precommits after its restart", async () => {
  const federation = four.federation;
  const [first, second] = others.filter((member) => member !== proposer);
  // Writes complete until `allowed` of them have; later ones never do: the crash comes first.
  let writes = 0;
  let allowed = Infinity;
  const disk = new MemoryKeyValueStore({ completeWrite: (complete) => (++writes <= allowed ? queueMicrotask(complete) : undefined) });
  const outbox = new ReplicaOutbox(() => {});
  // Not closed after the test like the others: its last write never completes, so it never idles.
  const replica = await openOn(disk, outbox);
  await joinAtHeightOne(replica, outbox, others);

  const entries = [statements.add(proposer.key), statements.add(proposer.key)];
  const gossip = encodePeerMessage({
    kind: { $case: "statements", value: { statements: entries.map((entry) => ({ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal })) } },
  });
  const batch = buildBatch(federation, replica.ledger.state, replica.ledger.head, entries, { proposer: proposer.signer.name, proposerTimeMs: 1n }).batch!;
  const proposal = proposalMessage(signProposal(proposer.signer, { federationId: federation.id, height: 1n, round: 0, validRound: -1, valueId: batch.id, proposer: proposer.signer.name }), batch);
  const prevoteBy = (member: TestMember): Buffer =>
    encodePeerMessage({
      kind: { $case: "vote", value: signVote(member.signer, { federationId: federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 1n, round: 0, valueId: batch.id, validator: member.signer.name, checkpointSignature: Buffer.alloc(0) }) },
    });
  const precommitBy = (member: TestMember): Buffer => encodePeerMessage({ kind: { $case: "vote", value: signPrecommit(federation, member.signer, batch, 0) } });

  replica.receive(proposer.signer.name, gossip);
  await waitFor("the statements pending", async () => (replica.mempool.size === 2 ? true : undefined), 5_000);
  // The polka before the proposal: the proposal makes the core prevote and precommit in one step.
  allowed = writes + 1;
  for (const member of [proposer, first!, second!]) replica.receive(member.signer.name, prevoteBy(member));
  replica.receive(proposer.signer.name, proposal);
  await waitFor("the precommit's record begun", async () => (writes > allowed ? true : undefined), 5_000);
  expect(ownVotes(outbox)).toEqual(["prevote/0"]);
  replica.close();

  // Restarted from what the disk held; `second` is down from now on.
  const restartedOutbox = new ReplicaOutbox(() => {});
  const restarted = await openOn(MemoryKeyValueStore.fromImage(disk.crash()), restartedOutbox);
  opened.push(restarted);
  await joinAtHeightOne(restarted, restartedOutbox, others);
  restarted.receive(proposer.signer.name, gossip);
  restarted.receive(proposer.signer.name, proposal);
  for (const member of [proposer, first!, second!]) restarted.receive(member.signer.name, prevoteBy(member));
  for (const member of [proposer, first!]) restarted.receive(member.signer.name, precommitBy(member));
  await waitFor("height 1 committed", async () => (restarted.ledger.treeSize === 2n ? true : undefined), 10_000);
  expect(ownVotes(restartedOutbox)).toContain("precommit/0");
});
