import type { AssembledBatch } from "../../src/batch";
import { type SignedProposal, Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import type { PeerMessage, PeerStatus } from "../../src/gen/hashfed/v1/peer";
import { systemTimers } from "../../src/node/environment";
import { referenceOf } from "../../src/replica/batchReference";
import type { Transport } from "../../src/replica/environment";
import { decodePeerMessage, encodePeerMessage } from "../../src/replica/peerMessages";
import { Replica, type ReplicaOptions } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import { proposerOf } from "../../src/consensus";
import { waitFor } from "./federationNet";
import { type FederationFixture, federationFixture, StatementMaker, type TestMember } from "./statements";

/** A single replica under test, fed by hand: what it sends, as the test reads it, and what peers tell it. */

/** The replica's transport: remembers its listening nonce and reports each prevote it sends (a batch id; empty for nil). */
export class ReplicaOutbox implements Transport {
  listening = 0n;
  /** Everything the replica sent, in order. */
  readonly sent: { to: string; message: PeerMessage }[] = [];

  constructor(private readonly onPrevote: (valueId: Buffer) => void) {}

  send(to: string, bytes: Uint8Array): void {
    const message = decodePeerMessage(bytes);
    this.sent.push({ to, message });
    if (message.kind?.$case === "status" && message.kind.value.listening !== 0n) this.listening = message.kind.value.listening;
    if (message.kind?.$case !== "vote") return;
    const vote = Vote.decode(message.kind.value.vote);
    if (vote.type === VoteType.VOTE_TYPE_PREVOTE) this.onPrevote(Buffer.from(vote.valueId));
  }
}

/** A replica on an in-memory store whose bugs fail the test (onFatal rethrows); the rest as given. */
export function openReplica(options: Omit<ReplicaOptions, "kv" | "onFatal">): Promise<Replica> {
  return Replica.open({
    ...options,
    kv: new MemoryKeyValueStore(),
    onFatal: (error) => {
      throw error;
    },
  });
}

/** A proposal of `batch` as a proposer sends it: the batch by reference to its statements. */
export function proposalMessage(proposal: SignedProposal, batch: AssembledBatch): Buffer {
  return encodePeerMessage({ kind: { $case: "proposal", value: { proposal, batch: referenceOf(batch.headerBytes, batch.entries) } } });
}

/**
 * A peer's status at `height`, holding nothing of its round; with `echo`, the answer to a listening
 * nonce, carrying `yours`; with `listening`, the status of a peer that listens after its start.
 */
export function peerStatus(height: bigint, echo = 0n, listening = 0n, yours: Buffer[] = []): Buffer {
  const status: PeerStatus = { height, round: 0, committedHeight: 0n, committedBatchId: Buffer.alloc(0), listening, echo, yours, proposalValueId: Buffer.alloc(0), prevoters: Buffer.alloc(0), precommitters: Buffer.alloc(0) };
  return encodePeerMessage({ kind: { $case: "status", value: status } });
}

/** Lets the replica's queue and the store's writes run out (the store completes writes in microtasks). */
export async function settled(replica: { idle(): Promise<void> }): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await replica.idle();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Four validators, seen by the one under test: the proposer of height 1 round 0, itself (another), and its peers. */
export interface FourValidators {
  readonly fixture: FederationFixture;
  readonly proposer: TestMember;
  readonly self: TestMember;
  readonly others: readonly TestMember[];
  readonly statements: StatementMaker;
}

export function fourValidators(label: string): FourValidators {
  const fixture = federationFixture({ validatorCount: 4, label });
  const names = fixture.validators.map((each) => each.signer.name);
  const proposer = fixture.validators.find((each) => each.signer.name === proposerOf(names, 1n, 0))!;
  const self = fixture.validators.find((each) => each !== proposer)!;
  const others = fixture.validators.filter((each) => each !== self);
  return { fixture, proposer, self, others, statements: new StatementMaker(fixture.federation, label) };
}

/** Answers the replica's listening after its start for every peer, at height 1, and waits until it validates. */
export async function joinAtHeightOne(replica: Replica, outbox: ReplicaOutbox, peers: readonly TestMember[]): Promise<void> {
  await waitFor("a listening status", async () => (outbox.listening !== 0n ? true : undefined), 5_000);
  for (const peer of peers) replica.receive(peer.signer.name, peerStatus(1n, outbox.listening));
  await waitFor("validating", async () => (replica.participation === "validating" ? true : undefined), 5_000);
}

/** Replicas a test opened, each closed after the test: push every one opened. */
export function closedAfterEach(): Replica[] {
  const opened: Replica[] = [];
  afterEach(async () => {
    for (const replica of opened.splice(0)) {
      replica.close();
      await replica.idle();
    }
  });
  return opened;
}

/** The validator under test of `four`, on the system clock, validating at height 1 once its peers answered its listening. */
export async function validatingAtHeightOne(four: FourValidators, opened: Replica[]): Promise<{ replica: Replica; outbox: ReplicaOutbox }> {
  const outbox = new ReplicaOutbox(() => {});
  const replica = await openReplica({ federation: four.fixture.federation, signer: four.self.signer, timers: systemTimers, transport: outbox });
  opened.push(replica);
  await joinAtHeightOne(replica, outbox, four.others);
  return { replica, outbox };
}

/** The messages of `member` the replica holds: what its answer to `member` listening at `height` (with `nonce`) carries. */
export async function echoedTo(replica: Replica, outbox: ReplicaOutbox, member: TestMember, height: bigint, nonce: bigint): Promise<PeerMessage[]> {
  replica.receive(member.signer.name, peerStatus(height, 0n, nonce));
  const echo = (): PeerStatus | undefined =>
    outbox.sent.flatMap(({ to, message }) => (to === member.signer.name && message.kind?.$case === "status" && message.kind.value.echo === nonce ? [message.kind.value] : [])).at(0);
  const status = await waitFor("the echo", async () => echo(), 5_000);
  return status.yours.map((bytes) => decodePeerMessage(bytes));
}
