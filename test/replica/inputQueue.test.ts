/**
 * Goal: a peer cannot pile up work at a node: the node queues at most 1,024 of one peer's messages
 * at a time, and has at most 16,384 of one peer's gossiped statements under signature checks, and
 * drops what comes beyond like lost messages, while another peer's still get in.
 * Method: one validator of four, the test playing its peers. One peer gossips 1,500 statements, one
 * a message, all at once (faster than any node handles them), and another peer one more. Then,
 * with the node's checks held until the test lets them go, one peer gossips 80 messages of 256.
 */
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { inThreadVerifier, type SignatureVerifier } from "../../src/replica/signatureChecks";
import { closedAfterEach, fourValidators, joinAtHeightOne, openReplica, ReplicaOutbox, settled, validatingAtHeightOne } from "../support/replicaHarness";
import type { AddedEntry } from "../support/statements";

const validators = fourValidators("input-queue");
const { fixture: four, proposer, self, others, statements } = validators;
const opened = closedAfterEach();

function gossip(...entries: AddedEntry[]): Buffer {
  const statements = entries.map((entry) => ({ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }));
  return encodePeerMessage({ kind: { $case: "statements", value: { statements } } });
}

test("one peer's messages beyond 1,024 waiting are dropped; another peer's still get in", async () => {
  const { replica } = await validatingAtHeightOne(validators, opened);
  const [flooder, other] = others.filter((each) => each !== proposer);
  for (let i = 0; i < 1_500; i++) replica.receive(flooder!.signer.name, gossip(statements.add(proposer.key)));
  replica.receive(other!.signer.name, gossip(statements.add(other!.key)));
  await settled(replica);
  expect(replica.mempool.size).toBe(1_024 + 1);
});

test("one peer's gossiped statements beyond 16,384 under signature checks are dropped", async () => {
  const held: (() => void)[] = [];
  const holding: SignatureVerifier = {
    verify: async (domain, checks) => {
      if (domain === "statement") await new Promise<void>((resolve) => held.push(resolve));
      return inThreadVerifier.verify(domain, checks);
    },
  };
  const outbox = new ReplicaOutbox(() => {});
  const replica = await openReplica({ federation: four.federation, signer: self.signer, timers: systemTimers, transport: outbox, verifier: holding });
  opened.push(replica);
  await joinAtHeightOne(replica, outbox, others);
  const flooder = others.find((each) => each !== proposer)!;
  for (let message = 0; message < 80; message++) replica.receive(flooder.signer.name, gossip(...Array.from({ length: 256 }, () => statements.add(proposer.key))));
  await settled(replica);
  for (const resolve of held.splice(0)) resolve();
  await settled(replica);
  expect(replica.mempool.size).toBe(16_384);
}, 60_000);
