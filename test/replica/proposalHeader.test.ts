/**
 * Goal: the proposer and size a batch header gives are not a Byzantine proposer's to choose. A
 * header naming another validator as the proposer of a new value had been prevoted and committed
 * (the log then served a false attribution to auditors); one padded through its proposer field,
 * so that its proposal just fitted a peer message, made a committed height whose sync answer fitted
 * none, and no node behind could ever pass it (found by a review of what a Byzantine member can do).
 * Method: one real replica at height 1, fed the Byzantine proposer's statements by gossip and its
 * proposal; what the replica prevotes.
 */
import { assembleBatch } from "../../src/batch";
import { proposerOf, signProposal } from "../../src/consensus";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { waitFor } from "../support/federationNet";
import { closedAfterEach, joinAtHeightOne, openReplica, proposalMessage, ReplicaOutbox } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const opened = closedAfterEach();

/** What a replica prevotes first at height 1 for the round-0 proposer's batch whose header names `proposer`. */
async function firstPrevote(label: string, proposer: (byzantine: string, honest: string) => string): Promise<{ prevote: Buffer; batchId: Buffer }> {
  const fixture = federationFixture({ validatorCount: 4, label, parameters: { timeoutProposeMs: 300 } });
  const names = fixture.validators.map((validator) => validator.signer.name);
  const byzantine = fixture.validators.find((validator) => validator.signer.name === proposerOf(names, 1n, 0))!;
  const self = fixture.validators.find((validator) => validator !== byzantine)!;
  const other = fixture.validators.find((validator) => validator !== byzantine && validator !== self)!;
  const prevotes: Buffer[] = [];
  const outbox = new ReplicaOutbox((valueId) => prevotes.push(valueId));
  const replica = await openReplica({ federation: fixture.federation, signer: self.signer, timers: systemTimers, transport: outbox });
  opened.push(replica);
  await joinAtHeightOne(replica, outbox, fixture.validators.filter((validator) => validator !== self));
  const entry = new StatementMaker(fixture.federation, label).add(byzantine.key);
  replica.receive(byzantine.signer.name, encodePeerMessage({ kind: { $case: "statements", value: { statements: [{ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }] } } }));
  await waitFor("the statement admitted", async () => (replica.mempool.size === 1 ? true : undefined), 5_000);
  const batch = assembleBatch(fixture.federation, replica.ledger.head, [entry], { proposer: proposer(byzantine.signer.name, other.signer.name), proposerTimeMs: 1n });
  const proposal = signProposal(byzantine.signer, { federationId: fixture.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch.id, proposer: byzantine.signer.name });
  replica.receive(byzantine.signer.name, proposalMessage(proposal, batch));
  const prevote = await waitFor("a prevote", async () => prevotes[0], 5_000);
  return { prevote, batchId: batch.id };
}

test("a new value is prevoted when its header names its proposer", async () => {
  const { prevote, batchId } = await firstPrevote("header-own-name", (byzantine) => byzantine);
  expect(prevote.equals(batchId)).toBe(true);
});

test("a new value whose header names another validator is not prevoted: nil once the propose timeout ends", async () => {
  const { prevote } = await firstPrevote("header-other-name", (_, honest) => honest);
  expect(prevote.length).toBe(0);
});

test("a header padded through its proposer field is not prevoted", async () => {
  const { prevote } = await firstPrevote("header-padded", () => "x".repeat(60_000));
  expect(prevote.length).toBe(0);
});
