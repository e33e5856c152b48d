/**
 * Goal: the node's timers run a zero-delay callback on the event loop's next turn, ahead of any
 * real timer, and clearing a handle cancels either kind.
 * Method: real timers; the order in which callbacks ran.
 */
import { systemTimers } from "../../src/node/environment";

test("a zero delay runs before a 1 ms timer, in the order asked; cleared handles never run", async () => {
  const ran: string[] = [];
  systemTimers.setTimeout(1, () => ran.push("1 ms"));
  systemTimers.setTimeout(0, () => ran.push("first zero"));
  const cancelledZero = systemTimers.setTimeout(0, () => ran.push("cancelled zero"));
  const cancelledTimer = systemTimers.setTimeout(1, () => ran.push("cancelled 1 ms"));
  systemTimers.setTimeout(0, () => ran.push("second zero"));
  systemTimers.clearTimeout(cancelledZero);
  systemTimers.clearTimeout(cancelledTimer);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(ran).toEqual(["first zero", "second zero", "1 ms"]);
});
