/**
 * Goal: a statement's signature is checked once by a node even when its proposal arrives while the
 * check of its gossiped copy is still under way (the common case under load, when the checks queue
 * up on the node's workers): the proposal waits for that check instead of making a second one, and
 * the node prevotes for it once the check passes. A gossiped copy with another signature (the same
 * statement bytes) is no stand-in: the node asks the proposer for the batch, and checks the
 * proposal's own signature.
 * Method: one validator of four, not the proposer of height 1, which joins consensus once its peers
 * answer its listening status; its verifier holds statement checks until the test lets them go and
 * counts them; a peer gossips a statement, then the proposer's proposal of a batch with it arrives.
 */
import { type AssembledBatch, type BatchEntry, buildBatch } from "../../src/batch";
import { proposerOf, signProposal } from "../../src/consensus";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage, wireBatch } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { inThreadVerifier, type SignatureVerifier } from "../../src/replica/signatureChecks";
import { waitFor } from "../support/federationNet";
import { openReplica, peerStatus, proposalMessage, ReplicaOutbox } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 4 });
const names = fixture.validators.map((validator) => validator.signer.name);
const proposer = fixture.validators.find((validator) => validator.signer.name === proposerOf(names, 1n, 0))!;
const self = fixture.validators.find((validator) => validator !== proposer)!;
const gossiper = fixture.validators.find((validator) => validator !== proposer && validator !== self)!;
const maker = new StatementMaker(fixture.federation, "proposal-checks");

let statementChecks = 0;
let held: (() => void)[] = [];
/** Statement checks wait until the test lets them go; votes and proposals are checked at once. */
const heldVerifier: SignatureVerifier = {
  verify: async (domain, checks) => {
    if (domain === "statement") {
      statementChecks += checks.length;
      await new Promise<void>((resolve) => held.push(resolve));
    }
    return inThreadVerifier.verify(domain, checks);
  },
};

function release(): void {
  for (const resolve of held) resolve();
  held = [];
}

let replica: Replica;
let outbox: ReplicaOutbox;
let prevotes: Buffer[];

/** A replica of `self` that has joined consensus at height 1 (its three peers answered its listening status). */
beforeEach(async () => {
  statementChecks = 0;
  prevotes = [];
  outbox = new ReplicaOutbox((valueId) => prevotes.push(valueId));
  replica = await openReplica({
    federation: fixture.federation,
    signer: self.signer,
    timers: systemTimers,
    verifier: heldVerifier,
    transport: outbox,
  });
  await until(() => outbox.listening !== 0n);
  for (const peer of fixture.validators.filter((validator) => validator !== self)) replica.receive(peer.signer.name, peerStatus(1n, outbox.listening));
  await until(() => replica.participation === "validating");
});

afterEach(async () => {
  release();
  replica.close();
  await replica.idle();
});

function gossip(entry: BatchEntry, signature: Buffer): void {
  const statement = { entry: { statement: entry.signed.bytes, signature }, reveal: entry.reveal };
  replica.receive(gossiper.signer.name, encodePeerMessage({ kind: { $case: "statements", value: { statements: [statement] } } }));
}

/** The proposer's proposal of height 1, round 0: a batch of `entry`. */
function propose(entry: BatchEntry): AssembledBatch {
  const { batch } = buildBatch(fixture.federation, replica.ledger.state, replica.ledger.head, [entry], { proposer: proposer.signer.name, proposerTimeMs: BigInt(Date.now()) });
  const proposal = signProposal(proposer.signer, { federationId: fixture.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch!.id, proposer: proposer.signer.name });
  replica.receive(proposer.signer.name, proposalMessage(proposal, batch!));
  return batch!;
}

/** The ids of the batches the node asked the proposer for. */
function batchesAsked(): string[] {
  return outbox.sent.flatMap(({ to, message }) =>
    to === proposer.signer.name && message.kind?.$case === "proposedBatchRequest" ? [Buffer.from(message.kind.value.valueId).toString("hex")] : [],
  );
}

/** One prevote, sent to each of the three peers, for `valueId`. */
function prevotedFor(valueId: Buffer): boolean {
  return prevotes.length > 0 && prevotes.every((prevote) => prevote.equals(valueId));
}

test("a proposal whose statement is being checked as gossip waits for that check, and the node prevotes once it passes", async () => {
  const entry = maker.add(gossiper.key);
  gossip(entry, entry.signed.signature);
  await until(() => statementChecks === 1);

  const batch = propose(entry);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(prevotes).toEqual([]);

  release();
  await until(() => prevotes.length > 0);
  expect(prevotedFor(batch.id)).toBe(true);
  expect(statementChecks).toBe(1);
  expect(batchesAsked()).toEqual([]);
});

test("a gossiped copy with another signature does not stand for the proposal's: the proposal's is checked itself", async () => {
  const entry = maker.add(gossiper.key);
  const forged = Buffer.from(entry.signed.signature);
  forged[0] ^= 1;
  gossip(entry, forged);
  await until(() => statementChecks === 1);

  const batch = propose(entry);
  await until(() => batchesAsked().length === 1);
  expect(batchesAsked()).toEqual([batch.id.toString("hex")]);
  replica.receive(proposer.signer.name, encodePeerMessage({ kind: { $case: "proposedBatch", value: wireBatch(batch) } }));
  await until(() => statementChecks === 2);
  release();
  await until(() => prevotes.length > 0);
  expect(prevotedFor(batch.id)).toBe(true);
});

function until(condition: () => boolean): Promise<true> {
  return waitFor(condition.toString(), async () => (condition() ? true : undefined), 5_000);
}
