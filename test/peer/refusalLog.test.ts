/**
 * Goal: refused peer connections are logged ten per ten seconds, and those beyond are counted and
 * the count logged when the interval ends, whether or not more come: anyone who reaches the port can
 * make a node refuse as fast as it opens streams, and must not be able to flood its log, nor hide
 * how many.
 * Method: RefusalLog on a clock and a timer the test moves (the end-to-end count of ten is in
 * inboundStreams).
 */
import { RefusalLog } from "../../src/peer/refusalLog";

let logged: string[];
let now: number;
let due: { at: number; then: () => void }[];
let refusals: RefusalLog;

/** Moves the clock by `ms`, running the timers that come due. */
function advance(ms: number): void {
  now += ms;
  for (const timer of due.filter(({ at }) => at <= now)) timer.then();
  due = due.filter(({ at }) => at > now);
}

beforeEach(() => {
  logged = [];
  now = 1_000;
  due = [];
  refusals = new RefusalLog((line) => logged.push(line), () => now, "peer connections", (ms, then) => due.push({ at: now + ms, then }));
});

test("ten refusals are logged per ten seconds; the rest are counted, and the count is logged when the interval ends", () => {
  for (let i = 0; i < 25; i++) refusals.refused(`refusal ${i}`);
  expect(logged).toEqual(Array.from({ length: 10 }, (_, i) => `refusal ${i}`));
  advance(9_999);
  refusals.refused("still in the first interval");
  expect(logged).toHaveLength(10);
  advance(1);
  expect(logged.slice(10)).toEqual(["refused 16 more peer connections, not logged one by one"]);
  refusals.refused("the first of the next interval");
  expect(logged.slice(11)).toEqual(["the first of the next interval"]);
  advance(10_000);
  refusals.refused("a later one");
  expect(logged.slice(12)).toEqual(["a later one"]);
});

// Once a bug: the count was said only at the next refusal after the interval, so a flood that stopped went uncounted.
test("a flood that stops is counted when its interval ends", () => {
  for (let i = 0; i < 13; i++) refusals.refused(`refusal ${i}`);
  advance(10_000);
  expect(logged.slice(10)).toEqual(["refused 3 more peer connections, not logged one by one"]);
  advance(60_000);
  expect(logged).toHaveLength(11);
});

test("a count already said at the interval's end is not said again by the next refusal", () => {
  for (let i = 0; i < 11; i++) refusals.refused(`refusal ${i}`);
  advance(10_000);
  refusals.refused("next");
  expect(logged.slice(10)).toEqual(["refused 1 more peer connections, not logged one by one", "next"]);
});
