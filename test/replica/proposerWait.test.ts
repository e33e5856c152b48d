/**
 * Goal: a round is not thrown away because its proposer finished the previous height later than this
 * node did. A propose timeout gives the proposer a propose timeout's worth of time from when its
 * statuses first show it at this height, and waits while they show it still at the previous one;
 * but never more than three propose timeouts in all, and only while it is heard from: a proposer
 * that falls silent (no message for half a propose timeout, here) costs at most that much more.
 * Method: one validator of four, not the proposer of height 1, on a clock the test moves by hand. It
 * joins consensus when two peers answer its listening status, then has a statement to commit, which
 * starts the round's clock (T0, propose timeout 1 s). The test plays the proposer's statuses (every
 * status interval) and, in one case, its proposal (of the node's statement), and reads the prevotes
 * the node sends.
 */
import { type BatchEntry, buildBatch } from "../../src/batch";
import { proposerOf, signProposal } from "../../src/consensus";
import { LISTEN_GRACE_INTERVALS, type Replica } from "../../src/replica/replica";
import { ManualTimers } from "../support/manualTimers";
import { openReplica, peerStatus, proposalMessage, ReplicaOutbox, settled } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 4 });
const names = fixture.validators.map((validator) => validator.signer.name);
const proposer = fixture.validators.find((validator) => validator.signer.name === proposerOf(names, 1n, 0))!;
const self = fixture.validators.find((validator) => validator !== proposer)!;
const others = fixture.validators.filter((validator) => validator !== proposer && validator !== self);
const maker = new StatementMaker(fixture.federation, "proposer-wait");
const STATUS_MS = 200;
const PROPOSE_MS = fixture.federation.parameters.timeoutProposeMs;
const T0 = LISTEN_GRACE_INTERVALS * STATUS_MS;
/** How long a proposer counts as alive without a message: half a propose timeout here. */
const ALIVE_MS = PROPOSE_MS / 2;

let timers: ManualTimers;
let replica: Replica;
/** The node's prevotes, with the time each was sent: a batch id in hex, or "nil". */
let prevotes: { at: number; value: string }[];
/** The statement the node has to commit. */
let pending: BatchEntry;

beforeEach(async () => {
  expect(PROPOSE_MS).toBe(1_000);
  timers = new ManualTimers();
  prevotes = [];
  const outbox = new ReplicaOutbox((valueId) => {
    const value = valueId.length === 0 ? "nil" : valueId.toString("hex");
    if (prevotes.at(-1)?.value !== value) prevotes.push({ at: timers.now(), value });
  });
  replica = await openReplica({
    federation: fixture.federation,
    signer: self.signer,
    timers,
    tuning: { statusIntervalMs: STATUS_MS },
    transport: outbox,
  });
  await settled(replica);
  expect(outbox.listening).not.toBe(0n);
  // Two peers (a quorum with the node) answer; the proposer does not, so the node knows nothing of it yet.
  for (const peer of others) replica.receive(peer.signer.name, peerStatus(1n, outbox.listening));
  await settled(replica);
  timers.advanceTo(T0);
  await settled(replica);
  expect(replica.participation).toBe("validating");
  pending = maker.add(self.key);
  for (const committed of replica.submit([pending])) committed.catch(() => {});
  await settled(replica);
});

afterEach(async () => {
  replica.close();
  await replica.idle();
});

function receiveStatus(from: (typeof fixture.validators)[number], height: bigint): void {
  replica.receive(from.signer.name, peerStatus(height));
}

/** Moves the clock to T0 + `to`, a status interval at a time; after each step the proposer reports `proposerHeight`, if given. */
async function advance(to: number, proposerHeight?: bigint): Promise<void> {
  while (timers.now() < T0 + to) {
    timers.advanceTo(Math.min(T0 + to, timers.now() + STATUS_MS));
    if (proposerHeight !== undefined) receiveStatus(proposer, proposerHeight);
    await settled(replica);
  }
}

/** The proposer is first heard at height 1 at T0 + `at`, and reports it every status interval from then on to T0 + `to`. */
async function proposerArrives(at: number, to: number): Promise<void> {
  await advance(at);
  receiveStatus(proposer, 1n);
  await settled(replica);
  await advance(to, 1n);
}

function propose(): string {
  const { batch } = buildBatch(fixture.federation, replica.ledger.state, replica.ledger.head, [pending], { proposer: proposer.signer.name, proposerTimeMs: 0n });
  const proposal = signProposal(proposer.signer, { federationId: fixture.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch!.id, proposer: proposer.signer.name });
  replica.receive(proposer.signer.name, proposalMessage(proposal, batch!));
  return batch!.id.toString("hex");
}

test("a proposer never heard from: the node prevotes nil at its propose timeout, as Tendermint says", async () => {
  await advance(PROPOSE_MS - 1);
  expect(prevotes).toEqual([]);
  await advance(PROPOSE_MS);
  expect(prevotes).toEqual([{ at: T0 + PROPOSE_MS, value: "nil" }]);
});

test("a proposer that reached the height late gets its propose timeout from then, and its proposal the node's prevote", async () => {
  await proposerArrives(700, PROPOSE_MS + 500);
  expect(prevotes).toEqual([]);
  const valueId = propose();
  await settled(replica);
  expect(prevotes).toEqual([{ at: T0 + PROPOSE_MS + 500, value: valueId }]);
});

test("a proposer that reached the height late and proposes nothing: nil a propose timeout after it was first heard there", async () => {
  await proposerArrives(700, 700 + PROPOSE_MS - 1);
  expect(prevotes).toEqual([]);
  await advance(700 + PROPOSE_MS, 1n);
  expect(prevotes).toEqual([{ at: T0 + 700 + PROPOSE_MS, value: "nil" }]);
});

test("a proposer that stays at the previous height gets at most three propose timeouts in all", async () => {
  await advance(3 * PROPOSE_MS - 1, 0n);
  expect(prevotes).toEqual([]);
  await advance(3 * PROPOSE_MS, 0n);
  expect(prevotes).toEqual([{ at: T0 + 3 * PROPOSE_MS, value: "nil" }]);
});

test("a proposer a height behind that falls silent gets no more time: nil half a propose timeout after its last message", async () => {
  await advance(800, 0n);
  await advance(800 + ALIVE_MS - 1);
  expect(prevotes).toEqual([]);
  await advance(800 + ALIVE_MS);
  expect(prevotes).toEqual([{ at: T0 + 800 + ALIVE_MS, value: "nil" }]);
});

test("a proposer that reached the height late and falls silent: nil half a propose timeout after its last message", async () => {
  await proposerArrives(900, 900);
  await advance(900 + ALIVE_MS - 1);
  expect(prevotes).toEqual([]);
  await advance(900 + ALIVE_MS);
  expect(prevotes).toEqual([{ at: T0 + 900 + ALIVE_MS, value: "nil" }]);
});
