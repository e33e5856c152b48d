/**
 * Goal: a peer that gossips a statement whose signature does not verify cannot keep a node's
 * signature checks busy. A correct node passes on only statements it verified, with the keys of the
 * one federation file every node has, so such a statement shows its sender faulty: its gossip is
 * then ignored for FORGED_GOSSIP_IGNORED_MS, and said so once. Before, every statement a Byzantine
 * member made up cost a check, up to 16,384 under way at a time, for as long as it liked (a review
 * of what a Byzantine member can do through the peer protocol).
 * Method: one real replica on the system clock, validating at height 1; gossip from two peers, the
 * signature checks counted at its verifier.
 */
import { randomBytes } from "node:crypto";
import type { BatchEntry } from "../../src/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { FORGED_GOSSIP_IGNORED_MS } from "../../src/replica/replica";
import { inThreadVerifier, type SignatureVerifier } from "../../src/replica/signatureChecks";
import { closedAfterEach, fourValidators, joinAtHeightOne, openReplica, ReplicaOutbox, settled } from "../support/replicaHarness";

const four = fourValidators("forged-gossip");
const { fixture, self, others, statements } = four;
const opened = closedAfterEach();

function gossip(entries: readonly BatchEntry[], signature?: (entry: BatchEntry) => Buffer): Buffer {
  const wire = entries.map((entry) => ({ entry: { statement: entry.signed.bytes, signature: signature?.(entry) ?? entry.signed.signature }, reveal: entry.reveal }));
  return encodePeerMessage({ kind: { $case: "statements", value: { statements: wire } } });
}

test("a peer that gossips a forged statement has its gossip ignored for a while, at no further check, while others' gossip is taken", async () => {
  const [byzantine, honest, author] = others;
  let statementChecks = 0;
  const counting: SignatureVerifier = {
    verify: (domain, checks) => {
      if (domain === "statement") statementChecks += checks.length;
      return inThreadVerifier.verify(domain, checks);
    },
  };
  const lines: string[] = [];
  // The system clock, which the test moves on past the time the gossip is ignored.
  let clockAheadMs = 0;
  const timers = { ...systemTimers, now: () => systemTimers.now() + clockAheadMs };
  const outbox = new ReplicaOutbox(() => undefined);
  const replica = await openReplica({ federation: fixture.federation, signer: self.signer, timers, transport: outbox, verifier: counting, log: (line) => lines.push(line) });
  opened.push(replica);
  await joinAtHeightOne(replica, outbox, others);

  // One statement of another member's, its signature made up.
  replica.receive(byzantine!.signer.name, gossip([statements.add(author!.key)], () => randomBytes(64)));
  await settled(replica);
  expect(statementChecks).toBe(1);
  expect(lines.filter((line) => line.includes(`ignores the statements ${byzantine!.signer.name} gossips`))).toHaveLength(1);
  expect(lines.join("\n")).toContain(`signed as ${author!.signer.name} whose signature does not verify`);

  // Then whatever it sends, forged or not, is not checked (each had been) and not taken.
  const fromByzantine = Array.from({ length: 50 }, () => statements.add(byzantine!.key));
  replica.receive(byzantine!.signer.name, gossip(fromByzantine.slice(0, 25), () => randomBytes(64)));
  replica.receive(byzantine!.signer.name, gossip(fromByzantine.slice(25)));
  await settled(replica);
  expect(statementChecks).toBe(1);
  expect(fromByzantine.filter((entry) => replica.mempool.has(entry.signed.key))).toEqual([]);
  expect(lines.filter((line) => line.includes("ignores the statements"))).toHaveLength(1);

  // A correct peer's gossip, the same statements among others, is checked and taken as before.
  const fromHonest = [...fromByzantine.slice(25), statements.add(honest!.key)];
  replica.receive(honest!.signer.name, gossip(fromHonest));
  await settled(replica);
  expect(statementChecks).toBe(1 + fromHonest.length);
  expect(fromHonest.every((entry) => replica.mempool.has(entry.signed.key))).toBe(true);

  // Once the time is over, the peer's gossip is checked again.
  clockAheadMs = FORGED_GOSSIP_IGNORED_MS;
  const later = statements.add(byzantine!.key);
  replica.receive(byzantine!.signer.name, gossip([later]));
  await settled(replica);
  expect(statementChecks).toBe(2 + fromHonest.length);
  expect(replica.mempool.has(later.signed.key)).toBe(true);
});
