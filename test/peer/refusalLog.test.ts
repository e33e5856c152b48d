/**
 * Goal: refused peer connections are logged ten per ten seconds, and those beyond are counted and
 * the count logged once the next interval starts: anyone who reaches the port can make a node
 * refuse as fast as it opens streams, and must not be able to flood its log, nor hide how many.
 * Method: RefusalLog on a clock the test moves (the end-to-end count of ten is in inboundStreams).
 */
import { RefusalLog } from "../../src/peer/refusalLog";

test("ten refusals are logged per ten seconds; the rest are counted, and the count is logged when the next interval starts", () => {
  const logged: string[] = [];
  let now = 1_000;
  const refusals = new RefusalLog((line) => logged.push(line), () => now, "peer connections");
  for (let i = 0; i < 25; i++) refusals.refused(`refusal ${i}`);
  expect(logged).toEqual(Array.from({ length: 10 }, (_, i) => `refusal ${i}`));
  now += 9_999;
  refusals.refused("still in the first interval");
  expect(logged).toHaveLength(10);
  now += 1;
  refusals.refused("the first of the next interval");
  expect(logged.slice(10)).toEqual(["refused 16 more peer connections, not logged one by one", "the first of the next interval"]);
  now += 10_000;
  refusals.refused("a later one");
  expect(logged.slice(12)).toEqual(["a later one"]);
});
