/**
 * Goal: a validator that crashes after it proposed and voted for a batch, before the commit reached
 * its disk, commits that batch after the restart, though its statements lived only in its memory:
 * proposals carry references, so the write-ahead state keeps each proposal's batch. Without it the
 * validator, locked on a batch nobody can show it, could never decide again.
 * Method: a federation of one validator on the simulated disk, whose log writes hang once the
 * replica is open (the write-ahead state's go through); one statement is submitted, the disk
 * crashes once the precommit is recorded, and a replica opened on what survived runs on.
 */
import { systemTimers } from "../../src/node/environment";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore } from "../../src/store";
import type { KeyRange, KeyValueStore, WriteOperation } from "../../src/store/keyValueStore";
import { waitFor } from "../support/federationNet";
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

async function open(kv: KeyValueStore): Promise<Replica> {
  const replica = await Replica.open({
    federation: fixture.federation,
    signer: validator.signer,
    timers: systemTimers,
    transport: { send: () => {} },
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
