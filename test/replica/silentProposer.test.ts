/**
 * Goal: a round whose proposer has sent nothing for a propose timeout or more when the round starts
 * (a node stopped or cut off) times out at once, instead of waiting a propose timeout for a proposal
 * that is not coming: while one of four validators was down in a soak run, each height it was to
 * propose took 2 s. A proposer heard from lately, or never heard from, still gets its propose timeout.
 * Method: as in proposerWait.test.ts, one validator of four, not the proposer of height 1, on a
 * clock the test moves by hand: it joins consensus when two peers answer its listening status; the
 * proposer reports a status at a chosen time and then nothing; the node is given a statement to
 * commit (which starts the height) at START; the test reads the prevotes it sends.
 */
import { proposerOf } from "../../src/consensus";
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

/** Opens the node, lets it join, has the proposer report height 1 at `proposerLastHeardAt` (if given) and nothing after, and starts the height at START. */
async function start(proposerLastHeardAt: number | undefined): Promise<void> {
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
  for (const at of [STATUS_MS, 2 * STATUS_MS, proposerLastHeardAt ?? 0, START].sort((a, b) => a - b)) {
    timers.advanceTo(at);
    if (at === proposerLastHeardAt) replica.receive(proposer.signer.name, peerStatus(1n));
    await settled(replica);
  }
  expect(replica.participation).toBe("validating");
  for (const committed of replica.submit([maker.add(self.key)])) committed.catch(() => {});
  await settled(replica);
}

afterEach(async () => {
  replica.close();
  await replica.idle();
});

async function advanceTo(at: number): Promise<void> {
  timers.advanceTo(at);
  await settled(replica);
}

test("a proposer silent for a propose timeout as the round starts: the node prevotes nil at once", async () => {
  await start(START - PROPOSE_MS);
  await advanceTo(START);
  expect(prevotes).toEqual([{ at: START, value: "nil" }]);
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
