/**
 * Goal: the Log service serves at most its rate of entries a second, node-wide, whoever asks: calls
 * beyond it wait their turn, first come first served, and are let in as the budget refills; beyond
 * the waiting bound a call is refused at once (LOG_BUSY); a call is charged what it served, not what
 * it asked for, and one that fails gives its charge back.
 * Method: the budget on timers the test moves (test/support/manualTimers.ts), calls that record
 * when they were let in.
 */
import { ServedEntriesBudget } from "../../src/node/servedEntriesBudget";
import { ManualTimers } from "../support/manualTimers";

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("calls beyond the rate wait their turn and are let in as it refills, in order; beyond the waiting bound, LOG_BUSY", async () => {
  const timers = new ManualTimers();
  const budget = new ServedEntriesBudget(1_000, 3, timers);
  const letIn: [number, number][] = [];
  const call = (name: number, entries: number): Promise<number> => budget.metered(entries, async () => (letIn.push([name, timers.now()]), entries), (served) => served);

  const calls = [call(1, 600), call(2, 600), call(3, 500), call(4, 500), call(5, 500)];
  const refused = call(6, 1);
  await expect(refused).rejects.toMatchObject({ code: "LOG_BUSY" });
  await settle();
  // The second second's budget went to the first two (1,200 of 1,000: the second came while 400 were left).
  expect(letIn).toEqual([[1, 0], [2, 0]]);
  // 200 owed: the third is let in once the balance is positive again, then each 500 entries later.
  for (let time = 0; time <= 1_300; time += 1) {
    timers.advanceTo(time);
    await settle();
  }
  expect(letIn).toEqual([[1, 0], [2, 0], [3, 201], [4, 701], [5, 1_201]]);
  await Promise.all(calls);
});

test("a call is charged what it served, and one that fails is charged nothing", async () => {
  const timers = new ManualTimers();
  const budget = new ServedEntriesBudget(1_000, 10, timers);
  // Asked for 1,000 (all the budget), served 10: the rest goes back at once.
  await budget.metered(1_000, async () => 10, (served) => served);
  await expect(budget.metered(1_000, async () => Promise.reject(new Error("the store failed")), () => 1_000)).rejects.toThrow("the store failed");
  const letIn: number[] = [];
  await budget.metered(900, async () => letIn.push(timers.now()), () => 900);
  expect(letIn).toEqual([0]);
});
