/**
 * Goal: a follower that keeps up is served the entries just committed from memory, exactly those of
 * the range it asks for, and anything not held (older, or dropped when a slow follower let too much
 * pile up) is left to the store.
 * Method: batches of known sizes added in commit order; ranges inside, across and outside them.
 */
import type { AssembledBatch } from "../../src/batch";
import { RecentBatches } from "../../src/node/recentBatches";

/** A committed batch of `count` entries ending at tree size `treeSize`: only what a follower reads. */
function batch(treeSize: number, count: number): Pick<AssembledBatch, "header" | "entries"> {
  const entries = Array.from({ length: count }, (_, offset) => {
    const index = treeSize - count + offset;
    return { signed: { entryBytes: Buffer.from(`entry ${index}`) }, reveal: index % 2 === 0 ? { salt: Buffer.from([index]), value: Buffer.from([index]) } : undefined };
  });
  return { header: { treeSize: BigInt(treeSize) }, entries } as unknown as Pick<AssembledBatch, "header" | "entries">;
}

const indexes = (entries: { index: bigint }[] | undefined) => entries?.map(({ index }) => Number(index));

test("serves ranges within and across the batches held, each entry with its bytes and reveal", () => {
  const recent = new RecentBatches(100);
  recent.add(batch(13, 3));
  recent.add(batch(18, 5));
  expect(indexes(recent.entries(10n, 13n))).toEqual([10, 11, 12]);
  expect(indexes(recent.entries(12n, 16n))).toEqual([12, 13, 14, 15]);
  const [entry] = recent.entries(14n, 15n)!;
  expect(entry).toEqual({ index: 14n, entryBytes: Buffer.from("entry 14"), reveal: { salt: Buffer.from([14]), value: Buffer.from([14]) } });
  expect(recent.entries(15n, 16n)![0]!.reveal).toBeUndefined();
});

test("leaves to the store what it does not hold: before the first batch, past the last, or after too many piled up", () => {
  const recent = new RecentBatches(10);
  recent.add(batch(13, 3));
  expect(recent.entries(9n, 12n)).toBeUndefined();
  expect(recent.entries(11n, 14n)).toBeUndefined();
  recent.add(batch(18, 5));
  expect(indexes(recent.entries(13n, 18n))).toEqual([13, 14, 15, 16, 17]);
  // Reading from 13 on let the first batch go: 5 held, then 6 more make 11, past the limit of 10.
  recent.add(batch(24, 6));
  expect(recent.entries(18n, 24n)).toBeUndefined();
  recent.add(batch(26, 2));
  expect(indexes(recent.entries(24n, 26n))).toEqual([24, 25]);
});

test("a batch that does not follow the last one held (a commit it was not told of) drops what it held", () => {
  const recent = new RecentBatches(100);
  recent.add(batch(13, 3));
  recent.add(batch(20, 2));
  expect(recent.entries(10n, 13n)).toBeUndefined();
  expect(recent.entries(13n, 18n)).toBeUndefined();
  expect(indexes(recent.entries(18n, 20n))).toEqual([18, 19]);
});
