/**
 * Goal: a node behind asks, of the peers that have the heights, one not passed over and heard from
 * lately, the quickest to answer last time (one never asked first): a peer that answered quickest
 * and then went down had been asked first each time, its request left to lapse (800 ms at the
 * default status interval) before another was tried.
 * Method: SyncPeers on times the test gives.
 */
import { SyncPeers } from "../../src/replica/syncPeers";

test("the quickest peer heard from lately, not passed over, is chosen; one never asked comes first", () => {
  const peers = new SyncPeers(800);
  for (const peer of ["a", "b", "c"]) peers.heard(peer, 0);
  expect(peers.choose(["a", "b", "c"], 10)).toBe("a");
  peers.answered("a", 40);
  expect(peers.choose(["a", "b", "c"], 10)).toBe("b");
  peers.answered("b", 5);
  peers.answered("c", 20);
  expect(peers.choose(["a", "b", "c"], 10)).toBe("b");
  peers.passOver("b", 1_000);
  expect(peers.choose(["a", "b", "c"], 10)).toBe("c");
  expect(peers.choose(["a", "b", "c"], 700)).toBe("c");
  peers.restore("b");
  expect(peers.choose(["a", "b", "c"], 10)).toBe("b");
});

test("a peer whose last status is older than the silence allowed is not chosen, however quick it was", () => {
  const peers = new SyncPeers(800);
  peers.heard("quick", 0);
  peers.heard("slow", 0);
  peers.answered("quick", 2);
  peers.answered("slow", 30);
  expect(peers.choose(["quick", "slow"], 500)).toBe("quick");
  peers.heard("slow", 900);
  expect(peers.choose(["quick", "slow"], 1_000)).toBe("slow");
  expect(peers.choose(["quick"], 1_000)).toBeUndefined();
  peers.heard("quick", 1_100);
  expect(peers.choose(["quick", "slow"], 1_200)).toBe("quick");
});
