/**
 * Goal: a validator restored from an old copy of its disk learns, while it listens, every message it
 * signed that a peer holds, so that it never signs one of those slots differently: a proposal whose
 * batch the peer never got, and messages of the height after the peer's, which it keeps until it
 * gets there. Either had been left out of the peer's answer, and a restored validator could then
 * propose twice at one slot, an equivocation that correct nodes hold as evidence against it.
 * Method: one validator of four, the test playing its peers. It takes in a peer's signed message,
 * then that peer sends the status of a validator listening after a start; the answer that echoes
 * the nonce must carry the message.
 */
import { signProposal, signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { buildBatch } from "../../src/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { waitFor } from "../support/federationNet";
import { closedAfterEach, echoedTo, fourValidators, openReplica, peerStatus, proposalMessage, ReplicaOutbox, settled, validatingAtHeightOne } from "../support/replicaHarness";

const validators = fourValidators("listener-echoes");
const { fixture: four, proposer, self, others, statements } = validators;
const NONCE = 77n;

const opened = closedAfterEach();
const validating = (): ReturnType<typeof validatingAtHeightOne> => validatingAtHeightOne(validators, opened);

test("a listening validator's proposal is echoed, without its batch, when this node never got the batch", async () => {
  const { replica, outbox } = await validating();
  // Statements this node never received: the proposal's reference cannot be resolved, so the batch is asked for.
  const entries = [statements.add(proposer.key), statements.add(proposer.key)];
  const batch = buildBatch(four.federation, replica.ledger.state, replica.ledger.head, entries, { proposer: proposer.signer.name, proposerTimeMs: 1n }).batch!;
  const proposal = signProposal(proposer.signer, { federationId: four.federation.id, height: 1n, round: 0, validRound: -1, valueId: batch.id, proposer: proposer.signer.name });
  replica.receive(proposer.signer.name, proposalMessage(proposal, batch));
  await waitFor("the batch asked for", async () => (outbox.sent.some(({ message }) => message.kind?.$case === "proposedBatchRequest") ? true : undefined), 5_000);
  await settled(replica);

  const yours = await echoedTo(replica, outbox, proposer, 1n, NONCE);
  const proposals = yours.flatMap((message) => (message.kind?.$case === "proposal" ? [message.kind.value] : []));
  expect(proposals).toHaveLength(1);
  expect(Buffer.from(proposals[0]!.proposal!.signature).equals(proposal.signature)).toBe(true);
  expect(proposals[0]!.batch).toBeUndefined();
});

/** `signer`'s prevote at height 2 in `round`, for some batch. */
function nextHeightPrevote(signer: typeof proposer.signer, round = 0): Buffer {
  const prevote = signVote(signer, {
    federationId: four.federation.id,
    type: VoteType.VOTE_TYPE_PREVOTE,
    height: 2n,
    round,
    valueId: Buffer.alloc(32, 9),
    validator: signer.name,
    checkpointSignature: Buffer.alloc(0),
  });
  return encodePeerMessage({ kind: { $case: "vote", value: prevote } });
}

test.each([
  ["at this node's height", 1n],
  ["at the height it is kept for (a peer ahead of this node)", 2n],
])("a listening validator's message of the next height, kept until this node gets there, is echoed to it listening %s", async (_, listenerHeight) => {
  const { replica, outbox } = await validating();
  const prevote = nextHeightPrevote(proposer.signer);
  replica.receive(proposer.signer.name, prevote);
  await settled(replica);
  expect(replica.ledger.head.height).toBe(0n);

  const yours = await echoedTo(replica, outbox, proposer, listenerHeight, NONCE);
  expect(yours.map((message) => encodePeerMessage(message))).toEqual([prevote]);
});

test("one validator's flood of next-height messages does not push out another's, which still goes back to it listening", async () => {
  const { replica, outbox } = await validating();
  const flooder = others.find((each) => each !== proposer)!;
  // More than the 4,096 messages kept in all, each validly signed, a round apiece.
  for (let round = 0; round < 4_200; round++) replica.receive(flooder.signer.name, nextHeightPrevote(flooder.signer, round));
  const prevote = nextHeightPrevote(proposer.signer);
  replica.receive(proposer.signer.name, prevote);
  await settled(replica);

  const yours = await echoedTo(replica, outbox, proposer, 2n, NONCE);
  expect(yours.map((message) => encodePeerMessage(message))).toEqual([prevote]);
});

/** The validator under test, listening after its start, with its log lines. */
async function listening(): Promise<{ replica: Replica; outbox: ReplicaOutbox; lines: string[] }> {
  const lines: string[] = [];
  const outbox = new ReplicaOutbox(() => {});
  const replica = await openReplica({ federation: four.federation, signer: self.signer, timers: systemTimers, transport: outbox, log: (line) => lines.push(line) });
  opened.push(replica);
  await waitFor("a listening status", async () => (outbox.listening !== 0n ? true : undefined), 5_000);
  return { replica, outbox, lines };
}

const adopted = (lines: readonly string[]): true | undefined => (lines.some((line) => line.includes("adopted a message it signed before its disk was restored (2/0/prevote)")) ? true : undefined);

test("a listening validator adopts what it signed from the answer of a peer at another height, though only answers at its own height count towards joining", async () => {
  const { replica, outbox, lines } = await listening();
  for (const peer of others) replica.receive(peer.signer.name, peerStatus(2n, outbox.listening, 0n, [nextHeightPrevote(self.signer)]));
  await waitFor("the prevote adopted", async () => adopted(lines), 5_000);
  await settled(replica);
  expect(replica.participation).toBe("listening");
});

test("a validator adopts what it signed from an answer that comes after it joined", async () => {
  const { replica, outbox, lines } = await listening();
  const nonce = outbox.listening;
  for (const peer of others) replica.receive(peer.signer.name, peerStatus(1n, nonce));
  await waitFor("validating", async () => (replica.participation === "validating" ? true : undefined), 5_000);
  replica.receive(others[0]!.signer.name, peerStatus(2n, nonce, 0n, [nextHeightPrevote(self.signer)]));
  await waitFor("the prevote adopted", async () => adopted(lines), 5_000);
});

test("an answer gives a listening validator only its own votes and proposals: a status nested in it, or another validator's message, is dropped unread", async () => {
  const { replica, outbox, lines } = await listening();
  const nested = peerStatus(2n, outbox.listening, 0n, [nextHeightPrevote(self.signer)]);
  replica.receive(others[0]!.signer.name, peerStatus(2n, outbox.listening, 0n, [nested, nextHeightPrevote(proposer.signer)]));
  await settled(replica);
  expect(adopted(lines)).toBeUndefined();
  expect(await echoedTo(replica, outbox, proposer, 2n, NONCE)).toEqual([]);
});

test("of an answer with more of the listener's own messages than it takes, the highest slots are adopted", async () => {
  const { replica, outbox, lines } = await listening();
  const yours = Array.from({ length: 300 }, (_, round) => nextHeightPrevote(self.signer, round));
  replica.receive(others[0]!.signer.name, peerStatus(2n, outbox.listening, 0n, yours));
  await waitFor("the highest prevote adopted", async () => (lines.some((line) => line.includes("(2/299/prevote)")) ? true : undefined), 10_000);
  expect(lines.some((line) => line.includes("(2/0/prevote)"))).toBe(false);
}, 20_000);
