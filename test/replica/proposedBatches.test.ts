/**
 * Goal: a proposal names its batch by reference (header, statement ids and signatures), and a
 * validator takes the batch from the statements gossiped to it, so that the entries cross the
 * network once. What it lacks it asks for: the whole batch, from the proposer first and from every
 * peer while none comes, and no longer once it holds the statements. A batch that nobody asked for,
 * or that is not the one its header commits to, or that comes from a member that is not a
 * validator, is not taken; a reference is taken only from the proposer itself; a peer that asks
 * gets a batch it holds at most once a resend interval; and a malformed reference is dropped.
 * Method: one validator of four, not the proposer of height 1, joined consensus at height 1 on a
 * 20 ms status interval (a proposal resend interval of 100 ms); the test plays its peers, and reads
 * what it sends.
 */
import { type AssembledBatch, type BatchEntry, buildBatch } from "../../src/batch";
import { proposerOf, signProposal } from "../../src/consensus";
import { systemTimers } from "../../src/node/environment";
import { referenceOf } from "../../src/replica/batchReference";
import { encodePeerMessage, wireBatch } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { waitFor } from "../support/federationNet";
import { openReplica, peerStatus, proposalMessage, ReplicaOutbox } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 4 });
const names = fixture.validators.map((validator) => validator.signer.name);
const proposer = fixture.validators.find((validator) => validator.signer.name === proposerOf(names, 1n, 0))!;
const self = fixture.validators.find((validator) => validator !== proposer)!;
const gossiper = fixture.validators.find((validator) => validator !== proposer && validator !== self)!;
const peers = fixture.validators.filter((validator) => validator !== self).map((validator) => validator.signer.name);
const maker = new StatementMaker(fixture.federation, "proposed-batches");
const RESEND_MS = 100;

let replica: Replica;
let outbox: ReplicaOutbox;
let prevotes: Buffer[];

beforeEach(async () => {
  prevotes = [];
  outbox = new ReplicaOutbox((valueId) => prevotes.push(valueId));
  replica = await openReplica({ federation: fixture.federation, signer: self.signer, timers: systemTimers, tuning: { statusIntervalMs: RESEND_MS / 5 }, transport: outbox });
  await until(() => outbox.listening !== 0n);
  for (const peer of fixture.validators.filter((validator) => validator !== self)) replica.receive(peer.signer.name, peerStatus(1n, outbox.listening));
  await until(() => replica.participation === "validating");
});

afterEach(async () => {
  replica.close();
  await replica.idle();
});

/** Gossips `entries` to the node, whose mempool is empty, and waits until it holds them. */
async function admit(entries: readonly BatchEntry[]): Promise<void> {
  const statements = entries.map((entry) => ({ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }));
  replica.receive(gossiper.signer.name, encodePeerMessage({ kind: { $case: "statements", value: { statements } } }));
  await until(() => replica.mempool.size === entries.length);
}

function batchOf(entries: readonly BatchEntry[]): AssembledBatch {
  return buildBatch(fixture.federation, replica.ledger.state, replica.ledger.head, entries, { proposer: proposer.signer.name, proposerTimeMs: 1n }).batch!;
}

function signedProposal(batch: AssembledBatch) {
  return signProposal(proposer.signer, { federationId: fixture.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch.id, proposer: proposer.signer.name });
}

function propose(batch: AssembledBatch): void {
  replica.receive(proposer.signer.name, proposalMessage(signedProposal(batch), batch));
}

function sendBatch(batch: AssembledBatch): void {
  replica.receive(proposer.signer.name, encodePeerMessage({ kind: { $case: "proposedBatch", value: wireBatch(batch) } }));
}

/** To whom the node sent a request for a batch, and for which (hex id), in order. */
function requests(): { to: string; valueId: string }[] {
  return outbox.sent.flatMap(({ to, message }) =>
    message.kind?.$case === "proposedBatchRequest" ? [{ to, valueId: Buffer.from(message.kind.value.valueId).toString("hex") }] : [],
  );
}

/** The batches the node sent whole, each with its receiver. */
function batchesSent(): { to: string; header: Buffer; entries: number }[] {
  return outbox.sent.flatMap(({ to, message }) => (message.kind?.$case === "proposedBatch" ? [{ to, header: message.kind.value.header, entries: message.kind.value.entries.length }] : []));
}

test("a proposal of statements the node holds is taken from them: no batch is asked for, and the node prevotes for it", async () => {
  const entries = [maker.add(gossiper.key), maker.add(gossiper.key), maker.add(proposer.key)];
  await admit(entries);
  const batch = batchOf(entries);
  propose(batch);
  await until(() => prevotes.length > 0);
  expect(prevotes.every((prevote) => prevote.equals(batch.id))).toBe(true);
  expect(requests()).toEqual([]);
});

test("a proposal naming a statement the node never got: it asks the proposer for the whole batch, and prevotes for it once it comes", async () => {
  const held = maker.add(gossiper.key);
  await admit([held]);
  const batch = batchOf([held, maker.add(proposer.key)]);
  propose(batch);
  await until(() => requests().length > 0);
  expect(requests()[0]).toEqual({ to: proposer.signer.name, valueId: batch.id.toString("hex") });
  expect(prevotes).toEqual([]);
  sendBatch(batch);
  await until(() => prevotes.length > 0);
  expect(prevotes.every((prevote) => prevote.equals(batch.id))).toBe(true);
});

test("a batch nobody asked for is dropped unread: the proposal that names it still has it asked for", async () => {
  const batch = batchOf([maker.add(proposer.key)]);
  sendBatch(batch);
  propose(batch);
  await until(() => requests().length > 0);
  expect(requests()[0]!.valueId).toBe(batch.id.toString("hex"));
});

test("while the batch does not come, the node asks every peer again, once a proposal resend interval", async () => {
  const batch = batchOf([maker.add(proposer.key)]);
  propose(batch);
  await until(() => peers.every((peer) => requests().some((request) => request.to === peer)));
  const asked = requests();
  expect(asked[0]!.to).toBe(proposer.signer.name);
  expect(asked.every((request) => request.valueId === batch.id.toString("hex"))).toBe(true);
  sendBatch(batch);
  await until(() => prevotes.length > 0);
  const after = requests().length;
  await new Promise((resolve) => setTimeout(resolve, 3 * RESEND_MS));
  expect(requests().length).toBe(after);
});

test("a batch asked for whose statements then arrive by gossip is taken from them when the proposal comes again: the asking stops", async () => {
  const missing = maker.add(proposer.key);
  const batch = batchOf([missing]);
  propose(batch);
  await until(() => requests().length > 0);
  await admit([missing]);
  propose(batch);
  await until(() => prevotes.length > 0);
  expect(prevotes.every((prevote) => prevote.equals(batch.id))).toBe(true);
  const asked = requests().length;
  await new Promise((resolve) => setTimeout(resolve, 3 * RESEND_MS));
  expect(requests().length).toBe(asked);
});

test("a body that is not the one its header commits to is dropped, whoever sends it, and the node keeps asking until the right one comes", async () => {
  const first = maker.add(proposer.key);
  const second = maker.add(proposer.key);
  const batch = batchOf([first, second]);
  propose(batch);
  await until(() => requests().length > 0);
  const swapped = wireBatch(batch);
  swapped.entries.reverse();
  swapped.reveals.reverse();
  replica.receive(proposer.signer.name, encodePeerMessage({ kind: { $case: "proposedBatch", value: swapped } }));
  replica.receive(fixture.observer.signer.name, encodePeerMessage({ kind: { $case: "proposedBatch", value: wireBatch(batch) } }));
  const asked = requests().length;
  await until(() => requests().length > asked);
  expect(prevotes).toEqual([]);
  sendBatch(batch);
  await until(() => prevotes.length > 0);
  expect(prevotes.every((prevote) => prevote.equals(batch.id))).toBe(true);
});

test("a proposal passed on by another validator is not taken from its reference, which that validator could have changed: the node asks it for the whole batch", async () => {
  const entries = [maker.add(gossiper.key), maker.add(gossiper.key)];
  await admit(entries);
  const batch = batchOf(entries);
  const reordered = referenceOf(batch.headerBytes, [...batch.entries].reverse());
  replica.receive(gossiper.signer.name, encodePeerMessage({ kind: { $case: "proposal", value: { proposal: signedProposal(batch), batch: reordered } } }));
  await until(() => requests().length > 0);
  expect(requests()[0]).toEqual({ to: gossiper.signer.name, valueId: batch.id.toString("hex") });
  replica.receive(gossiper.signer.name, encodePeerMessage({ kind: { $case: "proposedBatch", value: wireBatch(batch) } }));
  await until(() => prevotes.length > 0);
  expect(prevotes.every((prevote) => prevote.equals(batch.id))).toBe(true);
});

test("a validator asking for a batch the node holds gets it whole, once a resend interval; an observer, or a batch not held, gets nothing", async () => {
  const entries = [maker.add(gossiper.key), maker.add(gossiper.key)];
  await admit(entries);
  const batch = batchOf(entries);
  propose(batch);
  await until(() => prevotes.length > 0);
  const ask = (from: string, valueId: Buffer): void => replica.receive(from, encodePeerMessage({ kind: { $case: "proposedBatchRequest", value: { valueId } } }));

  ask(gossiper.signer.name, batch.id);
  ask(gossiper.signer.name, batch.id);
  ask(fixture.observer.signer.name, batch.id);
  ask(gossiper.signer.name, Buffer.alloc(32, 7));
  await until(() => batchesSent().length > 0);
  await replica.idle();
  expect(batchesSent()).toEqual([{ to: gossiper.signer.name, header: batch.headerBytes, entries: 2 }]);

  await new Promise((resolve) => setTimeout(resolve, RESEND_MS + 10));
  ask(gossiper.signer.name, batch.id);
  await until(() => batchesSent().length === 2);
});

test("a malformed reference is dropped, and the same proposal with a good one is weighed as usual", async () => {
  const entry = maker.add(gossiper.key);
  await admit([entry]);
  const batch = batchOf([entry]);
  const proposal = signedProposal(batch);
  const reference = { header: batch.headerBytes, entries: Buffer.concat([entry.signed.id, entry.signed.signature.subarray(1)]) };
  replica.receive(proposer.signer.name, encodePeerMessage({ kind: { $case: "proposal", value: { proposal, batch: reference } } }));
  await replica.idle();
  expect(requests()).toEqual([]);
  expect(prevotes).toEqual([]);
  replica.receive(proposer.signer.name, proposalMessage(proposal, batch));
  await until(() => prevotes.length > 0);
  expect(prevotes.every((prevote) => prevote.equals(batch.id))).toBe(true);
});

function until(condition: () => boolean): Promise<true> {
  return waitFor(condition.toString(), async () => (condition() ? true : undefined), 5_000);
}
