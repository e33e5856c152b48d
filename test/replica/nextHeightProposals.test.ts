/**
 * Goal: a validator keeps, for the next height, only the proposals it could take when that height
 * starts: its round's proposer's, for the first two rounds, with a reference no larger than a
 * batch's. One validator had parked 64 proposals of up to messageBytesMax each at every node (228 MiB
 * in a review's test), held until the next height started, for good at an observer.
 * Method: a validator at height 1 among four (test/support/replicaHarness.ts) is sent signed
 * proposals for height 2; what it kept is what it echoes to their signer when that one listens.
 */
import { signProposal } from "../../src/consensus";
import { proposerOf } from "../../src/consensus/proposer";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { ENTRY_REFERENCE_BYTES } from "../../src/replica/batchReference";
import { closedAfterEach, echoedTo, fourValidators, settled, validatingAtHeightOne } from "../support/replicaHarness";

const four = fourValidators("next-height-proposals");
const opened = closedAfterEach();
const names = four.fixture.validators.map((each) => each.signer.name);
const { batchEntriesMax } = four.fixture.federation.parameters;

test("only the round's proposer's proposals of rounds 0 and 1, of a batch's size, are kept for the next height", async () => {
  const { replica, outbox } = await validatingAtHeightOne(four, opened);
  const proposerAt = (round: number) => four.others.find((each) => each.signer.name === proposerOf(names, 2n, round))!;
  const propose = (round: number, signer = proposerAt(round), entries = 10, valueId = Buffer.alloc(32, round + 1)) => {
    const proposal = signProposal(signer.signer, { federationId: four.fixture.federation.id, height: 2n, round, validRound: -1, valueId, proposer: signer.signer.name });
    replica.receive(signer.signer.name, encodePeerMessage({ kind: { $case: "proposal", value: { proposal, batch: { header: Buffer.alloc(100), entries: Buffer.alloc(entries * ENTRY_REFERENCE_BYTES) } } } }));
    return proposal.signature;
  };
  // Rounds 0..7 at height 2 have their proposers among the three others (the one under test proposes none of them here).
  const rounds = [0, 1, 2, 3, 4, 5, 6, 7].filter((round) => proposerOf(names, 2n, round) !== four.self.signer.name);
  const kept = new Set<string>();
  for (const round of rounds) {
    const signature = propose(round);
    if (round <= 1) kept.add(signature.toString("hex"));
  }
  const notItsRound = rounds.find((round) => round <= 1)!;
  const impostor = four.others.find((each) => each !== proposerAt(notItsRound))!;
  propose(notItsRound, impostor);
  // Another value: signatures are deterministic, and the same proposal again would count as a copy of the one kept.
  propose(notItsRound, proposerAt(notItsRound), batchEntriesMax + 1, Buffer.alloc(32, 0xee));
  await settled(replica);
  const echoed = new Set<string>();
  for (const member of four.others) {
    for (const message of await echoedTo(replica, outbox, member, 1n, 77n + BigInt(names.indexOf(member.signer.name)))) {
      if (message.kind?.$case === "proposal") echoed.add(Buffer.from(message.kind.value.proposal!.signature).toString("hex"));
    }
  }
  expect(echoed).toEqual(kept);
});
