/**
 * Goal: a sync answer fits in one peer message (messageBytesMax, the gRPC limit of every peer link):
 * a node far enough behind was sent sixteen batches at once, over the limit, by every peer it
 * asked; each answer broke the link it came on, and the node never caught up.
 * Method: a one-validator federation with the smallest message limit (64 KiB, and batches of at
 * most 24 entries, which the limit holds) commits ten heights of 24 statements (about 11 KB each);
 * its observer asks for sixteen from height 1, then from where the answer stopped.
 */
import { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { systemTimers } from "../../src/node/environment";
import { BatchHeader } from "../../src/gen/hashfed/v1/batch";
import { waitFor } from "../support/federationNet";
import { closedAfterEach, openReplica, ReplicaOutbox } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const MESSAGE_BYTES_MAX = 64 * 1024;
const opened = closedAfterEach();

test("a sync answer holds the batches that fit in one peer message, and the next request takes the rest", async () => {
  const fixture = federationFixture({ label: "sync-size", parameters: { messageBytesMax: MESSAGE_BYTES_MAX, batchEntriesMax: 24 } });
  const [validator] = fixture.validators;
  const outbox = new ReplicaOutbox(() => {});
  const replica = await openReplica({ federation: fixture.federation, signer: validator!.signer, timers: systemTimers, transport: outbox });
  opened.push(replica);
  const maker = new StatementMaker(fixture.federation, "sync-size");
  for (let height = 1; height <= 10; height++) await Promise.all(replica.submit(Array.from({ length: 24 }, () => maker.add(validator!.key))));
  expect(replica.ledger.head.height).toBe(10n);

  const observer = fixture.observer.signer.name;
  const answers = (): PeerMessage[] => outbox.sent.filter(({ to, message }) => to === observer && message.kind?.$case === "syncResponse").map(({ message }) => message);
  const heightsOf = (message: PeerMessage): bigint[] =>
    message.kind?.$case === "syncResponse" ? message.kind.value.batches.map((synced) => BatchHeader.decode(synced.batch!.header).height) : [];
  const heights: bigint[] = [];
  for (let asked = 1; heights.length < 10 && asked <= 10; asked++) {
    const fromHeight = BigInt(heights.length + 1);
    replica.receive(observer, encodePeerMessage({ kind: { $case: "syncRequest", value: { fromHeight, count: 16 } } }));
    const answer = await waitFor("the sync answer", async () => answers()[asked - 1], 5_000);
    expect(encodePeerMessage(answer).length).toBeLessThanOrEqual(MESSAGE_BYTES_MAX - 16);
    expect(heightsOf(answer)[0]).toBe(fromHeight);
    heights.push(...heightsOf(answer));
  }
  expect(heights).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
  // Several answers were needed: sixteen batches at once would not have fit.
  expect(answers().length).toBeGreaterThan(1);
});
