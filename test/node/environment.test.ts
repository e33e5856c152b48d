/**
 * Goal: the node's timers run a zero-delay callback on the event loop's next turn (as setImmediate
 * does, not after setTimeout's 1 ms minimum), in the order asked, and clearing a handle cancels
 * either kind.
 * Method: real timers; a zero delay must run before an immediate queued after it (both are then in
 * the loop's check queue, which is first in, first out), whatever the load on the machine.
 */
import { systemTimers } from "../../src/node/environment";

test("a zero delay runs with the immediates queued after it, in order; cleared handles never run", async () => {
  const ran: string[] = [];
  systemTimers.setTimeout(1, () => ran.push("1 ms"));
  systemTimers.setTimeout(0, () => ran.push("first zero"));
  const cancelledZero = systemTimers.setTimeout(0, () => ran.push("cancelled zero"));
  const cancelledTimer = systemTimers.setTimeout(1, () => ran.push("cancelled 1 ms"));
  systemTimers.setTimeout(0, () => ran.push("second zero"));
  setImmediate(() => ran.push("immediate"));
  systemTimers.clearTimeout(cancelledZero);
  systemTimers.clearTimeout(cancelledTimer);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(ran.filter((name) => name !== "1 ms")).toEqual(["first zero", "second zero", "immediate"]);
  expect(ran).toContain("1 ms");
});
