import { GossipIgnores } from "../../src/replica/gossipIgnores";

/**
 * Goal: a peer's gossip is ignored for the given while from when it is first ignored, said once
 * (a second ignore within the while is no news), and a clock set back ends the while instead of
 * stretching it by as much as the clock went back.
 * Method: GossipIgnores driven by hand-set times.
 */

test("a peer is ignored for the while from its first ignore, once, and a clock set back ends the while", () => {
  const ignores = new GossipIgnores(1_000);
  expect(ignores.ignores("b", 0)).toBe(false);
  expect(ignores.ignore("b", 100)).toBe(true);
  expect(ignores.ignore("b", 600)).toBe(false);
  expect([ignores.ignores("b", 100), ignores.ignores("b", 1_099), ignores.ignores("b", 1_100)]).toEqual([true, true, false]);
  expect(ignores.ignores("c", 500)).toBe(false);
  expect(ignores.ignores("b", 99)).toBe(false);
  expect(ignores.ignore("b", 1_100)).toBe(true);
});
