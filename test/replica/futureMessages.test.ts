/**
 * Goal: the messages a replica keeps for the next height stay bounded in all and per signer, hold
 * one copy of each signed message (the signer's own copy when it comes: only a proposer's batch
 * reference is taken as is), and are handed over once, in the order kept.
 * Method: FutureMessages on its own, with messages told apart by their signatures.
 */
import type { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { FutureMessages } from "../../src/replica/futureMessages";

/** A stand-in message per call, distinguishable by identity. */
const message = (): PeerMessage => ({ kind: { $case: "statements", value: { statements: [] } } });
const signature = (n: number): Buffer => Buffer.alloc(64, n);

test("each signer keeps at most its share, and the store at most its total", () => {
  const kept = new FutureMessages(5, 2);
  expect([1, 2, 3].map((n) => kept.keep("a", "a", signature(n), message()))).toEqual([true, true, false]);
  expect([4, 5, 6].map((n) => kept.keep("b", "b", signature(n), message()))).toEqual([true, true, false]);
  expect(kept.keep("c", "c", signature(7), message())).toBe(true);
  expect(kept.keep("d", "d", signature(8), message())).toBe(false);
  expect(kept.size).toBe(5);
  expect(kept.signedBy("a")).toHaveLength(2);
});

test("a second copy of a message is not kept again, and the signer's copy replaces a relay's", () => {
  const kept = new FutureMessages(10, 1);
  const relayed = message();
  const own = message();
  expect(kept.keep("relay", "p", signature(1), relayed)).toBe(true);
  expect(kept.keep("other", "p", signature(1), message())).toBe(true);
  expect(kept.signedBy("p")[0]).toBe(relayed);
  expect(kept.keep("p", "p", signature(1), own)).toBe(true);
  expect(kept.signedBy("p")[0]).toBe(own);
  expect(kept.size).toBe(1);
});

test("take hands every kept message over once, in the order kept, and frees the shares", () => {
  const kept = new FutureMessages(10, 1);
  const first = message();
  const second = message();
  kept.keep("x", "a", signature(1), first);
  kept.keep("y", "b", signature(2), second);
  expect(kept.take().map((each) => [each.from, each.signer, each.message])).toEqual([
    ["x", "a", first],
    ["y", "b", second],
  ]);
  expect(kept.size).toBe(0);
  expect(kept.take()).toEqual([]);
  expect(kept.keep("a", "a", signature(3), message())).toBe(true);
});
