import { EventQueue } from "./eventQueue";
import { Prng } from "./prng";
import { Trace } from "./trace";
import { VirtualTimers } from "./virtualTimers";

/**
 * Goal: the event queue runs events in (time, insertion) order, cancels exactly what it is asked to,
 * never lets time go backwards; virtual timers and the trace built on it behave as documented.
 * Method: hand-made schedules with ties and cancellations, then a randomised schedule of thousands
 * of events and cancellations checked against a sort of the same events (a "dumb" reference).
 */

function newQueue(): EventQueue {
  return new EventQueue({ eventsPendingMax: 100_000 });
}

function runAll(queue: EventQueue): void {
  while (queue.runNext());
}

describe("EventQueue", () => {
  test("runs events by time, then by insertion order, advancing now", () => {
    const queue = newQueue();
    const ran: string[] = [];
    const at = (timeMs: number, name: string): void => {
      queue.schedule(timeMs, name, () => ran.push(`${name}@${queue.now}`));
    };
    at(5, "c");
    at(1, "a");
    at(5, "d");
    at(2.5, "b");
    at(5, "e");
    expect(queue.size).toBe(5);
    expect(queue.peekTimeMs()).toBe(1);
    runAll(queue);
    expect(ran).toEqual(["a@1", "b@2.5", "c@5", "d@5", "e@5"]);
    expect(queue.now).toBe(5);
    expect(queue.runNext()).toBe(false);
    expect(queue.peekTimeMs()).toBeUndefined();
    expect(queue.runCount).toBe(5);
  });

  test("an action may schedule more events, at the current instant too, which run after those already queued for it", () => {
    const queue = newQueue();
    const ran: string[] = [];
    queue.schedule(1, "first", () => {
      ran.push("first");
      queue.schedule(queue.now, "same instant", () => ran.push("same instant"));
      queue.schedule(queue.now + 1, "later", () => ran.push("later"));
    });
    queue.schedule(1, "second", () => ran.push("second"));
    runAll(queue);
    expect(ran).toEqual(["first", "second", "same instant", "later"]);
  });

  test("cancel removes exactly the named event, once; run or cancelled handles are no longer pending", () => {
    const queue = newQueue();
    const ran: string[] = [];
    const a = queue.schedule(1, "a", () => ran.push("a"));
    const b = queue.schedule(2, "b", () => ran.push("b"));
    const c = queue.schedule(3, "c", () => ran.push("c"));
    expect(queue.cancel(b)).toBe(true);
    expect(queue.cancel(b)).toBe(false);
    expect(queue.isPending(b)).toBe(false);
    expect(queue.size).toBe(2);
    runAll(queue);
    expect(ran).toEqual(["a", "c"]);
    expect(queue.cancel(a)).toBe(false);
    expect(queue.isPending(c)).toBe(false);
  });

  test("rejects scheduling in the past, at non-finite times, or beyond eventsPendingMax", () => {
    const queue = new EventQueue({ eventsPendingMax: 2 });
    queue.schedule(10, "x", () => undefined);
    queue.runNext();
    expect(() => queue.schedule(9, "past", () => undefined)).toThrow(/before now 10/);
    expect(() => queue.schedule(Number.NaN, "nan", () => undefined)).toThrow(/finite/);
    queue.schedule(11, "one", () => undefined);
    queue.schedule(11, "two", () => undefined);
    expect(() => queue.schedule(12, "three", () => undefined)).toThrow(/event queue full/);
  });

  test("a random mix of schedules and cancels runs in the same order as a sorted reference", () => {
    const prng = new Prng(2024);
    const queue = newQueue();
    const expected: { timeMs: number; sequence: number }[] = [];
    const handles: { handle: { id: number }; timeMs: number }[] = [];
    const ran: number[] = [];
    for (let index = 0; index < 5000; index++) {
      const timeMs = prng.int(0, 300) / 4;
      const handle = queue.schedule(timeMs, "random", () => ran.push(handle.id));
      handles.push({ handle, timeMs });
    }
    const cancelled = new Set<number>();
    for (const { handle } of handles) if (prng.chance(0.3) && queue.cancel(handle)) cancelled.add(handle.id);
    for (const { handle, timeMs } of handles) if (!cancelled.has(handle.id)) expected.push({ timeMs, sequence: handle.id });
    expected.sort((a, b) => a.timeMs - b.timeMs || a.sequence - b.sequence);
    expect(queue.size).toBe(expected.length);
    runAll(queue);
    expect(ran).toEqual(expected.map((event) => event.sequence));
  });

  test("observers see each event, with its node, before its action runs", () => {
    const queue = newQueue();
    const seen: string[] = [];
    queue.observe((event) => seen.push(`${event.timeMs} ${event.node} ${event.label}`));
    queue.schedule(3, "deliver n2->n1", () => seen.push("action"), "n1");
    queue.runNext();
    expect(seen).toEqual(["3 n1 deliver n2->n1", "action"]);
  });
});

describe("VirtualTimers", () => {
  test("fires callbacks at now + delay in virtual time, and clearTimeout cancels", () => {
    const queue = newQueue();
    const timers = new VirtualTimers(queue, "n1");
    const fired: string[] = [];
    timers.setTimeout(10, () => fired.push(`ten@${timers.now()}`));
    const cancelled = timers.setTimeout(5, () => fired.push("cancelled"));
    timers.setTimeout(0, () => fired.push(`zero@${timers.now()}`));
    timers.clearTimeout(cancelled);
    timers.clearTimeout(cancelled);
    expect(timers.pendingCount).toBe(2);
    runAll(queue);
    expect(fired).toEqual(["zero@0", "ten@10"]);
    expect(timers.pendingCount).toBe(0);
    expect(() => timers.setTimeout(-1, () => undefined)).toThrow(/delay/);
  });

  test("clearTimeout ignores handles that are not its own; close() silences this incarnation for good", () => {
    const queue = newQueue();
    const timers = new VirtualTimers(queue, "n1");
    const other = new VirtualTimers(queue, "n2");
    const fired: string[] = [];
    const otherHandle = other.setTimeout(1, () => fired.push("n2"));
    timers.clearTimeout(otherHandle);
    timers.setTimeout(2, () => fired.push("n1 before close"));
    timers.close();
    timers.setTimeout(1, () => fired.push("n1 after close"));
    runAll(queue);
    expect(fired).toEqual(["n2"]);
    expect(queue.size).toBe(0);
  });
});

describe("Trace", () => {
  test("keeps the last lines in order, counts all, and hashes the whole sequence", () => {
    const trace = new Trace(3);
    for (let index = 0; index < 5; index++) trace.record(index + 0.5, index % 2 === 0 ? "n1" : "", `event ${index}`);
    expect(trace.count).toBe(5);
    expect(trace.lines().map((line) => line.trim())).toEqual([
      "2.500ms n1       event 2",
      "3.500ms -        event 3",
      "4.500ms n1       event 4",
    ]);
    expect(trace.format().split("\n")[0]).toMatch(/^last 3 of 5 events \(trace hash [0-9a-f]{16}\):$/);

    const same = new Trace(100);
    const different = new Trace(100);
    for (let index = 0; index < 5; index++) {
      same.record(index + 0.5, index % 2 === 0 ? "n1" : "", `event ${index}`);
      different.record(index + 0.5, index % 2 === 0 ? "n1" : "", `event ${index === 4 ? 5 : index}`);
    }
    expect(same.hash).toBe(trace.hash);
    expect(different.hash).not.toBe(trace.hash);
    const before = same.hash;
    same.record(9, "n1", "more");
    expect(same.hash).not.toBe(before);
  });

  test("attached to a queue, records every event it runs", () => {
    const queue = newQueue();
    const trace = new Trace(10);
    trace.attach(queue);
    queue.schedule(1, "timer", () => undefined, "n3");
    queue.runNext();
    expect(trace.lines()).toHaveLength(1);
    expect(trace.lines()[0]).toMatch(/1\.000ms n3 +timer$/);
  });
});
