/**
 * Goal: RoundsAhead lets each validator's messages count in the current round, the next, and at most
 * two rounds beyond at a time; rounds the node has reached stop counting against the validator.
 */
import { RoundsAhead } from "../../src/replica/roundsAhead";

test("the current and next rounds always count; beyond, two rounds per validator", () => {
  const ahead = new RoundsAhead(2);
  expect(ahead.admits("a", 1, 0)).toBe(true);
  for (const round of [5, 9]) {
    expect(ahead.admits("a", round, 0)).toBe(true);
    ahead.record("a", round, 0);
  }
  expect(ahead.admits("a", 9, 0)).toBe(true);
  expect(ahead.admits("a", 7, 0)).toBe(false);
  expect(ahead.admits("a", 1, 0)).toBe(true);
  expect(ahead.admits("b", 7, 0)).toBe(true);
});

test("a round the node has reached, or the next, no longer counts against the validator", () => {
  const ahead = new RoundsAhead(2);
  ahead.record("a", 5, 0);
  ahead.record("a", 9, 0);
  expect(ahead.admits("a", 12, 4)).toBe(true);
  ahead.record("a", 12, 4);
  expect(ahead.admits("a", 13, 4)).toBe(false);
});

test("a new height starts with nothing ahead", () => {
  const ahead = new RoundsAhead(2);
  ahead.record("a", 5, 0);
  ahead.record("a", 9, 0);
  ahead.clear();
  expect(ahead.admits("a", 7, 0)).toBe(true);
});
