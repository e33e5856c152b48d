/**
 * Goal: an observer judges whether a sync answer is full by what its batches carry, so a peer cannot
 * make a one-batch answer look full by padding it with a field no decoder knows (a 4 MB padding had
 * passed as full, the peer escaping the pass-over and asked again at once); and the count is the
 * answer's encoded size, which the fullness bound is set against (a first count of the fields'
 * contents alone, 14 bytes an entry short, judged a correct answer not full at 64 KiB messages).
 * Method: a sync answer of generated batches, encoded with and without an unknown field of 4 MB,
 * decoded as a node decodes peer messages.
 */
import { randomBytes } from "node:crypto";
import { type SyncedBatch, SyncResponse } from "../../src/gen/hashfed/v1/peer";
import { decodePeerMessage, encodePeerMessage, syncAnswerContentBytes } from "../../src/replica/peerMessages";

function batchOf(entries: number): SyncedBatch {
  return {
    batch: {
      header: randomBytes(180),
      entries: Array.from({ length: entries }, () => ({ statement: randomBytes(200), signature: randomBytes(64) })),
      reveals: Array.from({ length: entries }, () => ({ salt: randomBytes(16), value: randomBytes(32) })),
    },
    certificate: { height: 7n, round: 0, valueId: randomBytes(32), precommits: Array.from({ length: 3 }, () => ({ vote: randomBytes(150), signature: randomBytes(64) })) },
  };
}

/** A length-delimited field number 99 of `bytes` zeros. */
function unknownField(bytes: number): Buffer {
  const varint = (value: number): number[] => (value < 128 ? [value] : [(value & 127) | 128, ...varint(Math.floor(value / 128))]);
  return Buffer.concat([Buffer.from([...varint((99 << 3) | 2), ...varint(bytes)]), Buffer.alloc(bytes)]);
}

test("padding an answer with a field no decoder knows adds nothing to its size as counted", () => {
  const answer = encodePeerMessage({ kind: { $case: "syncResponse", value: { batches: [batchOf(50)] } } });
  const padded = Buffer.concat([answer, unknownField(4_190_000)]);
  const batchesOf = (bytes: Buffer): SyncedBatch[] => {
    const message = decodePeerMessage(bytes);
    return message.kind?.$case === "syncResponse" ? message.kind.value.batches : [];
  };
  expect(padded.length).toBeGreaterThan(4_000_000);
  expect(syncAnswerContentBytes(batchesOf(padded))).toBe(syncAnswerContentBytes(batchesOf(answer)));
});

test("the count is the answer's encoded size, for batches large and small, a certificate of round 0 or later, at any height", () => {
  const later = { ...batchOf(2), certificate: { height: 1n << 40n, round: 3, valueId: randomBytes(32), precommits: [] } };
  for (const batches of [[batchOf(1_000), batchOf(3), batchOf(400)], [batchOf(1)], [later], []]) {
    expect(syncAnswerContentBytes(batches)).toBe(SyncResponse.encode({ batches }).finish().length);
  }
});
