/**
 * Goal: the Log service serves at most its rate of entries a second, node-wide, whoever asks: calls
 * beyond it wait their turn, first come first served, and are let in as the budget refills; beyond
 * the waiting bound, or its caller's share of it, a call is refused at once (LOG_BUSY); a call whose
 * client went away leaves the queue; a call is charged what it served, not what it asked for, and
 * one that fails gives its charge back; a stopping node refuses the calls still waiting.
 * Method: the budget on timers the test moves (test/support/manualTimers.ts), calls that record
 * when they were let in.
 */
import { type MeteredCall, ServedEntriesBudget } from "../../src/node/servedEntriesBudget";
import { ManualTimers } from "../support/manualTimers";

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The budget at 1,000 entries a second, on timers the test moves, and calls that record when they were let in. */
function budgetOf(waitingMax: number, waitingPerCallerMax: number) {
  const timers = new ManualTimers();
  const budget = new ServedEntriesBudget(1_000, waitingMax, waitingPerCallerMax, timers);
  const letIn: [string, number][] = [];
  const call = (name: string, entries: number, from: MeteredCall = { caller: "10.0.0.1" }): Promise<number> =>
    budget.metered(entries, from, async () => (letIn.push([name, timers.now()]), entries), (served) => served);
  const runTo = async (end: number): Promise<void> => {
    for (let time = timers.now(); time <= end; time += 1) {
      timers.advanceTo(time);
      await settle();
    }
  };
  return { timers, budget, letIn, call, runTo };
}

test("calls beyond the rate wait their turn and are let in as it refills, in order; beyond the waiting bound, LOG_BUSY", async () => {
  const { letIn, call, runTo } = budgetOf(3, 3);
  const calls = [call("1", 600), call("2", 600), call("3", 500), call("4", 500), call("5", 500)];
  await expect(call("6", 1)).rejects.toMatchObject({ code: "LOG_BUSY" });
  await settle();
  // The first second's budget went to the first two (1,200 of 1,000: the second came while 400 were left).
  expect(letIn).toEqual([["1", 0], ["2", 0]]);
  // 200 owed: the third is let in once the balance is positive again, then each 500 entries later.
  await runTo(1_300);
  expect(letIn).toEqual([["1", 0], ["2", 0], ["3", 201], ["4", 701], ["5", 1_201]]);
  await Promise.all(calls);
});

test("one caller waits in at most its share of the queue; another still gets in line", async () => {
  const { letIn, call, runTo } = budgetOf(10, 2);
  const greedy = { caller: "10.0.0.66" };
  const calls = [call("a", 1_000, greedy), call("b", 100, greedy), call("c", 100, greedy)];
  await expect(call("d", 100, greedy)).rejects.toMatchObject({ code: "LOG_BUSY", message: expect.stringContaining("2 of its calls from 10.0.0.66 are waiting") });
  calls.push(call("auditor", 100, { caller: "10.0.0.2" }));
  await runTo(1_300);
  expect(letIn.map(([name]) => name)).toEqual(["a", "b", "c", "auditor"]);
  await Promise.all(calls);
});

test("a waiting call whose client went away leaves the queue and takes no turn", async () => {
  const { letIn, call, runTo } = budgetOf(10, 10);
  const first = call("first", 1_000);
  const gone = new AbortController();
  const abandoned = call("abandoned", 500, { caller: "10.0.0.1", abandoned: gone.signal });
  const next = call("next", 500);
  gone.abort();
  await expect(abandoned).rejects.toMatchObject({ code: "LOG_CALL_ABANDONED" });
  await runTo(1_100);
  expect(letIn).toEqual([["first", 0], ["next", 1]]);
  await Promise.all([first, next]);
});

test("a call is charged what it served, and one that fails is charged nothing", async () => {
  const { timers, budget } = budgetOf(10, 10);
  const from = { caller: "10.0.0.1" };
  // Asked for 1,000 (all the budget), served 10: the rest goes back at once.
  await budget.metered(1_000, from, async () => 10, (served) => served);
  await expect(budget.metered(1_000, from, async () => Promise.reject(new Error("the store failed")), () => 1_000)).rejects.toThrow("the store failed");
  const letIn: number[] = [];
  await budget.metered(900, from, async () => letIn.push(timers.now()), () => 900);
  expect(letIn).toEqual([0]);
});

test("a stopping node refuses the calls still waiting, and any later one", async () => {
  const { budget, letIn, call } = budgetOf(10, 10);
  const first = call("first", 1_000);
  const waiting = call("waiting", 100);
  budget.close();
  await expect(waiting).rejects.toMatchObject({ code: "NODE_STOPPING" });
  await expect(call("later", 1)).rejects.toMatchObject({ code: "NODE_STOPPING" });
  await first;
  expect(letIn.map(([name]) => name)).toEqual(["first"]);
});
