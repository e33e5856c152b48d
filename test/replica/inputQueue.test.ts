/**
 * Goal: a peer cannot pile up work in a node's input queue: the node queues at most 1,024 of one
 * peer's messages at a time and drops the rest like lost ones, while another peer's still get in.
 * Method: one validator of four, the test playing its peers. One peer gossips 1,500 statements, one
 * a message, all at once (faster than any node handles them), and another peer one more.
 */
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { closedAfterEach, fourValidators, settled, validatingAtHeightOne } from "../support/replicaHarness";
import type { AddedEntry } from "../support/statements";

const validators = fourValidators("input-queue");
const { proposer, others, statements } = validators;
const opened = closedAfterEach();

function gossip(entry: AddedEntry): Buffer {
  return encodePeerMessage({ kind: { $case: "statements", value: { statements: [{ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }] } } });
}

test("one peer's messages beyond 1,024 waiting are dropped; another peer's still get in", async () => {
  const { replica } = await validatingAtHeightOne(validators, opened);
  const [flooder, other] = others.filter((each) => each !== proposer);
  for (let i = 0; i < 1_500; i++) replica.receive(flooder!.signer.name, gossip(statements.add(proposer.key)));
  replica.receive(other!.signer.name, gossip(statements.add(other!.key)));
  await settled(replica);
  expect(replica.mempool.size).toBe(1_024 + 1);
});
