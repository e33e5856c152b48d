/**
 * Goal: a node that stops while gossiped statements are under signature checks stops cleanly. Its
 * worker pool ends with it and fails the checks it held; the replica, already closed, had taken
 * that failure as fatal, and a graceful stop of a node under load exited 70 before its store closed.
 * Method: one validator of four, the test playing its peers, with a verifier whose statement checks
 * the test fails after closing the replica.
 */
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Replica } from "../../src/replica/replica";
import { inThreadVerifier, type SignatureVerifier } from "../../src/replica/signatureChecks";
import { MemoryKeyValueStore } from "../../src/store";
import { fourValidators, joinAtHeightOne, ReplicaOutbox, settled } from "../support/replicaHarness";

const { fixture: four, proposer, self, others, statements } = fourValidators("close-during-checks");

test("checks that fail after the replica closed are not a fatal error; before, they are", async () => {
  const held: ((error: Error) => void)[] = [];
  const failing: SignatureVerifier = {
    verify: (domain, checks) => (domain === "statement" ? new Promise((_, reject) => held.push(reject)) : inThreadVerifier.verify(domain, checks)),
  };
  const fatal: unknown[] = [];
  const outbox = new ReplicaOutbox(() => {});
  const open = (): Promise<Replica> => Replica.open({ federation: four.federation, signer: self.signer, timers: systemTimers, transport: outbox, verifier: failing, kv: new MemoryKeyValueStore(), onFatal: (error) => fatal.push(error) });
  const gossip = (): Buffer => {
    const entry = statements.add(proposer.key);
    return encodePeerMessage({ kind: { $case: "statements", value: { statements: [{ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }] } } });
  };

  const stopping = await open();
  await joinAtHeightOne(stopping, outbox, others);
  stopping.receive(proposer.signer.name, gossip());
  await settled(stopping);
  expect(held).toHaveLength(1);
  stopping.close();
  held.pop()!(new Error("an Ed25519 worker exited with code 1"));
  await settled(stopping);
  expect(fatal).toEqual([]);

  // A replica still running stops on the same failure: a verifier that fails is a fault of the node.
  const running = await open();
  outbox.listening = 0n;
  await joinAtHeightOne(running, outbox, others);
  running.receive(proposer.signer.name, gossip());
  await settled(running);
  held.pop()!(new Error("an Ed25519 worker exited with code 1"));
  await settled(running);
  expect(fatal).toHaveLength(1);
  running.close();
});
