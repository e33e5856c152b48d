/**
 * Goal: the mempool finds the pending statements that do the same thing (add the same signal for
 * the same member, retract the same entry) however many there are, and forgets each one as it
 * leaves, committed or removed, down to none; statements that do different things never mix.
 * Method: statements from the statement maker, added and removed in several orders.
 */
import type { BatchEntry } from "../../src/batch";
import { Mempool } from "../../src/replica/mempool";
import type { StatementId } from "../../src/statements";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 2 });
const maker = new StatementMaker(fixture.federation, "mempool");
const [alice, bob] = fixture.validators.map((member) => member.key);
const value = Buffer.alloc(32, 7);
const ids = (entries: readonly BatchEntry[]): string[] => entries.map((entry) => entry.signed.id.toString("hex")).sort();

function fresh(): Mempool {
  return new Mempool({ statementsMax: 100, perSubmitterMax: 100 });
}

test("adds of one signal by one member are found together, one to three of them, and forgotten one by one", () => {
  const mempool = fresh();
  const adds = [maker.add(alice!, { value }), maker.add(alice!, { value }), maker.add(alice!, { value })];
  const other = maker.add(bob!, { value });
  const purpose = mempool.removeCommitted(adds[0]!);
  expect(mempool.doingTheSame(purpose)).toEqual([]);
  for (const [count, entry] of adds.entries()) {
    expect(mempool.add(entry)).toBe(true);
    expect(ids(mempool.doingTheSame(purpose))).toEqual(ids(adds.slice(0, count + 1)));
  }
  expect(mempool.add(other)).toBe(true);
  expect(mempool.add(adds[1]!)).toBe(false);
  expect(ids(mempool.doingTheSame(purpose))).toEqual(ids(adds));
  mempool.remove(adds[1]!.signed.key);
  expect(ids(mempool.doingTheSame(purpose))).toEqual(ids([adds[0]!, adds[2]!]));
  expect(mempool.removeCommitted(adds[0]!)).toBe(purpose);
  expect(ids(mempool.doingTheSame(purpose))).toEqual(ids([adds[2]!]));
  mempool.remove(adds[2]!.signed.key);
  expect(mempool.doingTheSame(purpose)).toEqual([]);
  expect(mempool.size).toBe(1);
  expect(ids(mempool.doingTheSame(mempool.removeCommitted(other)))).toEqual([]);
  expect(mempool.size).toBe(0);
});

test("a statement alone in its purpose is found, and after it leaves a new one takes its place", () => {
  const mempool = fresh();
  const first = maker.add(alice!, { value });
  const second = maker.add(alice!, { value });
  mempool.add(first);
  const purpose = mempool.removeCommitted(first);
  expect(mempool.doingTheSame(purpose)).toEqual([]);
  mempool.add(second);
  expect(ids(mempool.doingTheSame(purpose))).toEqual(ids([second]));
});

test("retractions of one entry are found together, and by their submitter", () => {
  const mempool = fresh();
  const target = maker.add(alice!).signed.id as StatementId;
  const byAlice = maker.retract(alice!, target);
  const byBob = maker.retract(bob!, target);
  mempool.add(byAlice);
  expect(mempool.retracts(target, alice!.name)).toBe(true);
  expect(mempool.retracts(target, bob!.name)).toBe(false);
  mempool.add(byBob);
  expect(mempool.retracts(target, bob!.name)).toBe(true);
  mempool.remove(byAlice.signed.key);
  expect(mempool.retracts(target, alice!.name)).toBe(false);
  expect(mempool.retracts(target, bob!.name)).toBe(true);
  mempool.remove(byBob.signed.key);
  expect(mempool.retracts(target, bob!.name)).toBe(false);
});
