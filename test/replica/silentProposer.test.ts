/**
 * Goal: a round whose proposer has sent nothing for a propose timeout or more when the round starts
 * (a node stopped or cut off) times out after two status intervals, instead of waiting a propose
 * timeout for a proposal that is not coming: while one of four validators was down in a soak run,
 * each height it was to propose took 2 s. A proposer that speaks within those two intervals (a
 * stall), one heard from lately, through a relayed vote of this height too, or one never heard
 * from still gets its propose timeout.
 * Method: as in proposerWait.test.ts, one validator of four, not the proposer of height 1, on a
 * clock the test moves by hand: it joins consensus when two peers answer its listening status; the
 * proposer reports a status at a chosen time and then nothing; the node is given a statement to
 * commit (which starts the height) at START; the test reads the prevotes it sends.
 */
import { proposerOf, signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { ManualTimers } from "../support/manualTimers";
import { openReplica, peerStatus, ReplicaOutbox, settled } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 4 });
const names = fixture.validators.map((validator) => validator.signer.name);
const proposer = fixture.validators.find((validator) => validator.signer.name === proposerOf(names, 1n, 0))!;
const self = fixture.validators.find((validator) => validator !== proposer)!;
const others = fixture.validators.filter((validator) => validator !== proposer && validator !== self);
const maker = new StatementMaker(fixture.federation, "silent-proposer");
const STATUS_MS = 200;
const PROPOSE_MS = fixture.federation.parameters.timeoutProposeMs;
/** When the node has a statement to commit, and its height starts. */
const START = 3_000;

let timers: ManualTimers;
let replica: Replica;
/** The node's prevotes, with the time each was sent: "nil" or a batch id in hex. */
let prevotes: { at: number; value: string }[];

/**
 * Opens the node, lets it join, has the proposer report height 1 at `proposerLastHeardAt` (if given)
 * and nothing after, except, if `relayedVoteAt` is given, its nil prevote of height 1 passed on by
 * another peer then; and starts the height at START.
 */
async function start(proposerLastHeardAt: number | undefined, relayedVoteAt?: number): Promise<void> {
  timers = new ManualTimers();
  prevotes = [];
  const outbox = new ReplicaOutbox((valueId) => {
    const value = valueId.length === 0 ? "nil" : valueId.toString("hex");
    if (prevotes.at(-1)?.value !== value) prevotes.push({ at: timers.now(), value });
  });
  replica = await openReplica({ federation: fixture.federation, signer: self.signer, timers, tuning: { statusIntervalMs: STATUS_MS }, transport: outbox });
  await settled(replica);
  for (const peer of others) replica.receive(peer.signer.name, peerStatus(1n, outbox.listening));
  await settled(replica);
  for (const at of [STATUS_MS, 2 * STATUS_MS, proposerLastHeardAt ?? 0, relayedVoteAt ?? 0, START].sort((a, b) => a - b)) {
    timers.advanceTo(at);
    if (at === proposerLastHeardAt) replica.receive(proposer.signer.name, peerStatus(1n));
    if (at === relayedVoteAt) replica.receive(others[0]!.signer.name, relayedNilPrevote());
    await settled(replica);
  }
  expect(replica.participation).toBe("validating");
  for (const committed of replica.submit([maker.add(self.key)])) committed.catch(() => {});
  await settled(replica);
}

/** The proposer's nil prevote of height 1, round 0, as a peer passes it on. */
function relayedNilPrevote(): Buffer {
  const vote = signVote(proposer.signer, { federationId: fixture.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 1n, round: 0, valueId: Buffer.alloc(0), validator: proposer.signer.name, checkpointSignature: Buffer.alloc(0) });
  return encodePeerMessage({ kind: { $case: "vote", value: vote } });
}

afterEach(async () => {
  replica.close();
  await replica.idle();
});

async function advanceTo(at: number): Promise<void> {
  timers.advanceTo(at);
  await settled(replica);
}

test("a proposer silent for a propose timeout as the round starts: the node prevotes nil after two status intervals", async () => {
  await start(START - PROPOSE_MS);
  await advanceTo(START + 2 * STATUS_MS - 1);
  expect(prevotes).toEqual([]);
  await advanceTo(START + 2 * STATUS_MS);
  expect(prevotes).toEqual([{ at: START + 2 * STATUS_MS, value: "nil" }]);
});

test("a silent proposer that speaks within those two intervals (a stall) gets the rest of its propose timeout", async () => {
  await start(START - PROPOSE_MS);
  await advanceTo(START + 100);
  replica.receive(proposer.signer.name, peerStatus(1n));
  await advanceTo(START + 2 * STATUS_MS);
  await advanceTo(START + PROPOSE_MS - 1);
  expect(prevotes).toEqual([]);
  await advanceTo(START + PROPOSE_MS);
  expect(prevotes).toEqual([{ at: START + PROPOSE_MS, value: "nil" }]);
});

test("a proposer whose link to this node is down but whose vote of this height came through a peer gets its propose timeout", async () => {
  await start(START - 2 * PROPOSE_MS, START - PROPOSE_MS / 2);
  await advanceTo(START + PROPOSE_MS - 1);
  expect(prevotes).toEqual([]);
  await advanceTo(START + PROPOSE_MS);
  expect(prevotes).toEqual([{ at: START + PROPOSE_MS, value: "nil" }]);
});

test("a proposer heard from within a propose timeout gets its propose timeout", async () => {
  await start(START - PROPOSE_MS + 1);
  expect(prevotes).toEqual([]);
  await advanceTo(START + PROPOSE_MS - 1);
  expect(prevotes).toEqual([]);
  await advanceTo(START + PROPOSE_MS);
  expect(prevotes).toEqual([{ at: START + PROPOSE_MS, value: "nil" }]);
});

test("a proposer never heard from gets its propose timeout: this node may have just started", async () => {
  await start(undefined);
  await advanceTo(START + PROPOSE_MS - 1);
  expect(prevotes).toEqual([]);
  await advanceTo(START + PROPOSE_MS);
  expect(prevotes).toEqual([{ at: START + PROPOSE_MS, value: "nil" }]);
});
