/**
 * Goal: PeerHeights answers "has this round's proposer had its time?" from what the node hears:
 * more time for a proposer still at the height before or only lately at this one, while it is heard
 * from; none for one that is silent, never reported, further behind or already past the height.
 * (The replica's use of it: proposerWait.test.ts.)
 */
import { PeerHeights } from "../../src/replica/peerHeights";

const PROPOSE_MS = 1_000;
const ALIVE_MS = 400;

test("a proposer at the height before is waited for until it has been silent for the alive interval", () => {
  const heights = new PeerHeights();
  heights.reported("p", 4n, 100);
  expect(heights.proposerDue("p", 5n, 300, PROPOSE_MS, ALIVE_MS)).toBe(100 + ALIVE_MS);
  heights.heard("p", 450);
  expect(heights.proposerDue("p", 5n, 500, PROPOSE_MS, ALIVE_MS)).toBe(450 + ALIVE_MS);
  expect(heights.proposerDue("p", 5n, 450 + ALIVE_MS, PROPOSE_MS, ALIVE_MS)).toBeUndefined();
});

test("a proposer has a propose timeout from when it was first reported at the height, not from its latest status", () => {
  const heights = new PeerHeights();
  heights.reported("p", 4n, 0);
  heights.reported("p", 5n, 700);
  heights.reported("p", 5n, 1_600);
  expect(heights.proposerDue("p", 5n, 1_650, PROPOSE_MS, ALIVE_MS)).toBe(700 + PROPOSE_MS);
  expect(heights.proposerDue("p", 5n, 700 + PROPOSE_MS, PROPOSE_MS, ALIVE_MS)).toBeUndefined();
});

test("a proposer at the height that falls silent is waited for only until the alive interval has passed", () => {
  const heights = new PeerHeights();
  heights.reported("p", 5n, 900);
  expect(heights.proposerDue("p", 5n, 1_000, PROPOSE_MS, ALIVE_MS)).toBe(900 + ALIVE_MS);
  expect(heights.proposerDue("p", 5n, 900 + ALIVE_MS, PROPOSE_MS, ALIVE_MS)).toBeUndefined();
});

test("a proposer more than a height behind is catching up, not finishing a height: no more time", () => {
  const heights = new PeerHeights();
  heights.reported("p", 5n, 0);
  heights.reported("p", 3n, 2_000);
  expect(heights.proposerDue("p", 5n, 2_100, PROPOSE_MS, ALIVE_MS)).toBeUndefined();
  expect(heights.proposerDue("p", 4n, 2_100, PROPOSE_MS, ALIVE_MS)).toBe(2_000 + ALIVE_MS);
});

test("any message keeps a reported proposer alive between its statuses; one never reported stays unknown", () => {
  const heights = new PeerHeights();
  heights.reported("p", 4n, 0);
  heights.heard("p", 900);
  expect(heights.proposerDue("p", 5n, 1_000, PROPOSE_MS, ALIVE_MS)).toBe(900 + ALIVE_MS);
  heights.heard("q", 900);
  expect(heights.proposerDue("q", 5n, 1_000, PROPOSE_MS, ALIVE_MS)).toBeUndefined();
});

test("no more time for a proposer already past the height", () => {
  const heights = new PeerHeights();
  heights.reported("p", 6n, 0);
  expect(heights.proposerDue("p", 5n, 100, PROPOSE_MS, ALIVE_MS)).toBeUndefined();
});
