/**
 * Goal: the listening handshake (a validator's statuses after a start carry a nonce; peers answer
 * with what it signed) costs a node no more than a correct peer's pace, whatever a Byzantine
 * validator sends. Its nonce is public (it went to every member): statuses echoing it after the
 * validator had joined were still taken as answers, each message in them a signature check (256
 * per status, 148 times a forged vote's cost); and every listening status was answered, with the
 * proposals the node kept for the next height and their batch references, megabytes an answer for
 * a status of a few bytes (found by a review of what a Byzantine member can do).
 * Method: one real replica on the system clock, validating at height 1; a Byzantine peer's statuses.
 */
import { createHash, randomBytes } from "node:crypto";
import { proposerOf, signProposal } from "../../src/consensus";
import { BatchHeader, Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { systemTimers } from "../../src/node/environment";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { closedAfterEach, fourValidators, joinAtHeightOne, openReplica, peerStatus, ReplicaOutbox, settled } from "../support/replicaHarness";

const four = fourValidators("listening-costs");
const { fixture, self, others } = four;
const names = fixture.validators.map((validator) => validator.signer.name);
const opened = closedAfterEach();
const STATUS_INTERVAL_MS = 20;

/** A prevote that claims to be `name`'s, with random bytes for a signature: each one distinct. */
function forgedVote(name: string, round: number): Buffer {
  const vote = Buffer.from(Vote.encode({ federationId: fixture.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 1n, round, valueId: randomBytes(32), validator: name, checkpointSignature: Buffer.alloc(0) }).finish());
  return encodePeerMessage({ kind: { $case: "vote", value: { vote, signature: randomBytes(64) } } });
}

async function validating(log: (line: string) => void = () => undefined) {
  const outbox = new ReplicaOutbox(() => undefined);
  const replica = await openReplica({ federation: fixture.federation, signer: self.signer, timers: systemTimers, transport: outbox, log, tuning: { statusIntervalMs: STATUS_INTERVAL_MS } });
  opened.push(replica);
  await joinAtHeightOne(replica, outbox, others);
  return { replica, outbox, nonce: outbox.listening };
}

test("a status echoing the nonce of a listening that ended costs no signature check", async () => {
  const dropped: string[] = [];
  const byzantine = others[0]!;
  const { replica, nonce } = await validating((line) => line.includes("dropped a message") && dropped.push(line));
  // Well past the answers a joined validator still takes (ten status intervals).
  await new Promise((resolve) => setTimeout(resolve, 20 * STATUS_INTERVAL_MS));
  for (let k = 0; k < 20; k++) replica.receive(byzantine.signer.name, peerStatus(1n, nonce, 0n, Array.from({ length: 8 }, (_, i) => forgedVote(self.signer.name, 8 * k + i))));
  await settled(replica);
  // Each forged vote checked had been dropped for its signature: 160 here.
  expect(dropped).toEqual([]);
});

test("listening statuses are answered at a correct peer's pace, without the batch references of kept proposals", async () => {
  const byzantine = others.find((validator) => validator.signer.name === proposerOf(names, 2n, 0))!;
  const { replica, outbox } = await validating();
  // The Byzantine validator parks 64 proposals of its own for height 2, each naming a full batch.
  const entriesMax = fixture.federation.parameters.batchEntriesMax;
  for (let i = 0; i < 64; i++) {
    const header = Buffer.from(
      BatchHeader.encode({ federationId: fixture.federation.id, height: 2n, previousHeaderHash: randomBytes(32), treeSize: 1n, root: randomBytes(32), revealsDigest: randomBytes(32), proposerTimeMs: BigInt(i), proposer: byzantine.signer.name, entryCount: entriesMax }).finish(),
    );
    const valueId = createHash("sha256").update(header).digest();
    const proposal = signProposal(byzantine.signer, { federationId: fixture.federation.id, height: 2n, round: 0, validRound: -1, valueId, proposer: byzantine.signer.name });
    replica.receive(byzantine.signer.name, encodePeerMessage({ kind: { $case: "proposal", value: { proposal, batch: { header, entries: randomBytes(entriesMax * 96) } } } }));
  }
  await settled(replica);
  const before = outbox.sent.length;
  for (let i = 0; i < 50; i++) replica.receive(byzantine.signer.name, peerStatus(1n, 0n, 12345n));
  await settled(replica);
  const answers = outbox.sent.slice(before).filter(({ to, message }) => to === byzantine.signer.name && message.kind?.$case === "status" && message.kind.value.echo === 12345n);
  // Every one had been answered, each answer 6 MB.
  expect(answers.length).toBeGreaterThan(0);
  expect(answers.length).toBeLessThan(10);
  for (const { message } of answers) {
    const yours = message.kind?.$case === "status" ? message.kind.value.yours : [];
    expect(yours.length).toBeGreaterThan(0);
    expect(yours.reduce((sum, bytes) => sum + bytes.length, 0)).toBeLessThan(64 * 1024);
  }
});
