/**
 * Goal: a validator that crashes after it proposed and voted for a batch, before the commit reached
 * its disk, commits that batch after the restart, though its statements lived only in its memory:
 * proposals carry references, so the write-ahead state keeps each proposal's batch. Without it the
 * validator, locked on a batch nobody can show it, could never decide again. A validator locked on
 * another's batch (it precommitted it) keeps that batch too, and can show it after a restart.
 * Method: a federation of one validator on the simulated disk, whose log writes hang once the
 * replica is open (the write-ahead state's go through); one statement is submitted, the disk
 * crashes once the precommit is recorded, and a replica opened on what survived runs on. Then one
 * validator of four, the test playing its peers: it precommits a batch of gossiped statements, its
 * disk crashes, and after the restart a peer asks it for the batch.
 */
import { buildBatch } from "../../src/batch";
import { signProposal, signVote } from "../../src/consensus";
import { Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import type { KeyRange, KeyValueStore, WriteOperation } from "../../src/store/keyValueStore";
import { waitFor } from "../support/federationNet";
import { fourValidators, joinAtHeightOne, proposalMessage, ReplicaOutbox } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 1 });
const validator = fixture.validators[0]!;
const maker = new StatementMaker(fixture.federation, "proposal-restart");
/** The write-ahead state's keys start with "W". */
const WRITE_AHEAD_PREFIX = 0x57;

/** The disk, except that writes outside the write-ahead state never complete once `hang` is set; counts the write-ahead writes. */
class HangingLogWrites implements KeyValueStore {
  hang = false;
  writeAheadWrites = 0;

  constructor(readonly disk: MemoryKeyValueStore) {}

  get(key: Buffer) {
    return this.disk.get(key);
  }

  getMany(keys: readonly Buffer[]) {
    return this.disk.getMany(keys);
  }

  values(range: KeyRange, chunk?: number) {
    return this.disk.values(range, chunk);
  }

  entries(range: KeyRange, chunk?: number) {
    return this.disk.entries(range, chunk);
  }

  write(operations: readonly WriteOperation[], options: { readonly sync: boolean }): Promise<void> {
    const writeAhead = operations.every((operation) => operation.key[0] === WRITE_AHEAD_PREFIX);
    if (this.hang && !writeAhead) return new Promise<void>(() => {});
    if (writeAhead) this.writeAheadWrites++;
    return this.disk.write(operations, options);
  }

  close() {
    return this.disk.close();
  }
}

/** Replicas to close after each test, each with whether its input queue can be waited for (not while it waits on a write that never ends). */
const opened: { replica: Replica; settles: boolean }[] = [];

afterEach(async () => {
  for (const { replica, settles } of opened.splice(0)) {
    replica.close();
    if (settles) await replica.idle();
  }
});

async function open(kv: KeyValueStore, setup = { fixture, member: validator, transport: new ReplicaOutbox(() => {}) }): Promise<Replica> {
  const replica = await Replica.open({
    federation: setup.fixture.federation,
    signer: setup.member.signer,
    timers: systemTimers,
    transport: setup.transport,
    kv,
    onFatal: (error) => {
      throw error;
    },
  });
  return replica;
}

test("a batch proposed and voted for before a crash is committed after the restart, with the statements gone from memory", async () => {
  const hanging = new HangingLogWrites(new MemoryKeyValueStore());
  const first = await open(hanging);
  opened.push({ replica: first, settles: false });
  hanging.hang = true;
  const entry = maker.add(validator.key);
  first.submit([entry])[0]!.catch(() => {});
  // Proposal, prevote, precommit: each a synced write-ahead record before it is sent.
  await waitFor("the precommit recorded", async () => (hanging.writeAheadWrites >= 3 ? true : undefined), 5_000);
  first.close();
  const image = hanging.disk.crash();

  const second = await open(MemoryKeyValueStore.fromImage(image));
  opened.push({ replica: second, settles: true });
  expect(second.mempool.size).toBe(0);
  expect(second.ledger.treeSize).toBe(0n);
  await waitFor("the batch committed", async () => (second.ledger.treeSize === 1n ? true : undefined), 5_000);
  expect(second.ledger.indexOf(entry.signed.id)).toBe(0);
});

test("a validator locked on another's batch keeps it: after a restart with nothing in memory, it shows it to a peer that asks", async () => {
  const { fixture: four, proposer, self, others, statements } = fourValidators("lock-restart");
  const join = (replica: Replica, outbox: ReplicaOutbox): Promise<void> => joinAtHeightOne(replica, outbox, others);

  const disk = new MemoryKeyValueStore();
  const outbox = new ReplicaOutbox(() => {});
  const first = await open(disk, { fixture: four, member: self, transport: outbox });
  opened.push({ replica: first, settles: true });
  await join(first, outbox);
  const entries = [statements.add(proposer.key), statements.add(proposer.key)];
  const gossip = entries.map((entry) => ({ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }));
  first.receive(proposer.signer.name, encodePeerMessage({ kind: { $case: "statements", value: { statements: gossip } } }));
  await waitFor("the statements admitted", async () => (first.mempool.size === 2 ? true : undefined), 5_000);
  const batch = buildBatch(four.federation, first.ledger.state, first.ledger.head, entries, { proposer: proposer.signer.name, proposerTimeMs: 1n }).batch!;
  const proposal = signProposal(proposer.signer, { federationId: four.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch.id, proposer: proposer.signer.name });
  first.receive(proposer.signer.name, proposalMessage(proposal, batch));
  for (const peer of others.slice(0, 2)) {
    const prevote = { federationId: four.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 1n, round: 0, valueId: batch.id, validator: peer.signer.name, checkpointSignature: Buffer.alloc(0) };
    first.receive(peer.signer.name, encodePeerMessage({ kind: { $case: "vote", value: signVote(peer.signer, prevote) } }));
  }
  const precommitted = (box: ReplicaOutbox): boolean => box.sent.some(({ message }) => message.kind?.$case === "vote" && message.kind.value.vote.length > 0 && precommitOf(message.kind.value.vote));
  await waitFor("its precommit", async () => (precommitted(outbox) ? true : undefined), 5_000);
  first.close();
  const image = disk.crash();

  const after = new ReplicaOutbox(() => {});
  const second = await open(MemoryKeyValueStore.fromImage(image), { fixture: four, member: self, transport: after });
  opened.push({ replica: second, settles: true });
  expect(second.mempool.size).toBe(0);
  await join(second, after);
  const asker = others.find((each) => each !== proposer)!;
  second.receive(asker.signer.name, encodePeerMessage({ kind: { $case: "proposedBatchRequest", value: { valueId: batch.id } } }));
  const shown = (): boolean => after.sent.some(({ to, message }) => to === asker.signer.name && message.kind?.$case === "proposedBatch" && message.kind.value.header.equals(batch.headerBytes));
  await waitFor("the batch shown", async () => (shown() ? true : undefined), 5_000);
});

function precommitOf(voteBytes: Uint8Array): boolean {
  return Vote.decode(voteBytes).type === VoteType.VOTE_TYPE_PRECOMMIT;
}
