import { assert, AssertionError } from "../../src/assert";
import type { EventQueue } from "./eventQueue";

/**
 * The harness that drives virtual time while the code under test is asynchronous. This file, and
 * only this file, touches the real event loop (setImmediate and process.getActiveResourcesInfo).
 *
 * The loop alternates two steps: settle, then run exactly one queue event.
 *
 *  - **Settle.** Let every continuation that the last event made runnable run to completion: await
 *    a setImmediate. By the time it fires, Node has drained the process.nextTick queue and the
 *    promise-job queue completely, including jobs queued by jobs. If the code under test itself
 *    queued immediates, more are pending when ours fires, so we go round again, until a round ends
 *    with no immediate pending (or `settleRoundsMax` rounds, reported as "unsettled").
 *  - **Run one event** (a message delivery, a timer, a simulated disk write completing), which may
 *    resolve promises; then settle again before the next one, even at the same virtual instant.
 *
 * Why this is deterministic: promise jobs, nextTicks and immediates run in FIFO orders that depend
 * only on the order in which they were queued, and that order depends only on the events run and
 * their order, which the seed fixes. Real time never enters, as long as the code under simulation
 * keeps this contract:
 *
 *  1. it defers work only through promises/nextTick/queueMicrotask and through simulated components
 *     that schedule on the EventQueue (VirtualTimers, SimNetwork, the simulated disk);
 *  2. it does no real I/O and no thread-pool work (fs, level, sockets, async crypto such as
 *     crypto.generateKeyPair with a callback or webcrypto.subtle: the sync node:crypto calls are fine),
 *     starts no real timers, and does not depend on GC (WeakRef, FinalizationRegistry);
 *  3. it does not poll with setImmediate forever (that is "unsettled").
 *
 * With `detectRealAsync` (on by default outside jest) a breach of 2 that is still pending after settling fails
 * loudly instead of making a seed flaky: it sees what Node lists in getActiveResourcesInfo (real
 * timers, fs and dns requests, sockets), but not a native addon's work (classic-level, under
 * `level`) nor webcrypto, so those must be kept out by construction (MemoryKeyValueStore, sync crypto).
 *
 * Immediates are counted process-wide, so immediates from outside the simulation only add rounds;
 * that changes nothing for code that keeps rule 1, and store code that batches with setImmediate
 * (src/store/coalescedReads.ts) is settled completely, round after round.
 *
 * Semantics this gives the code under test: everything a handler does "immediately" (its promise
 * chain up to the first await on a simulated, queue-backed operation) completes at the virtual
 * instant of the event that started it, before any later event runs.
 */

export type StopReason =
  /** `condition()` returned true. */
  | "condition"
  /** The next event is later than limitMs (it stays queued; time stops at the last event run). */
  | "limit"
  /** Nothing is queued: the cluster cannot make progress on its own. */
  | "idle"
  /** `eventsMax` events ran in this call. */
  | "eventBudget"
  /** Immediates were still being queued after settleRoundsMax rounds. */
  | "unsettled";

export interface RunResult {
  readonly reason: StopReason;
  /** Virtual time when the run stopped. */
  readonly nowMs: number;
  /** Events run by this call. */
  readonly eventsRun: number;
}

export interface RunOptions {
  /** Run at most this many events in this call. Default 10,000,000. */
  readonly eventsMax?: number;
  /** Settling gives up after this many setImmediate rounds. Default 1,000. */
  readonly settleRoundsMax?: number;
  /** Called after each event has settled, before `condition`: invariant checkers go here. It may throw. */
  readonly afterEvent?: () => void;
  /** Fail if settling leaves real timers or real I/O started during this run pending. Default: outside jest only (see DETECT_REAL_ASYNC_DEFAULT). */
  readonly detectRealAsync?: boolean;
}

/**
 * The guard against real timers and I/O counts the whole process's resources. Under jest the test
 * runner's own timers and sockets share the process and trip it now and then, so there it is off
 * unless a test asks for it; under jest the determinism test, which runs seeds twice and compares
 * their trace hashes, is what catches nondeterminism. Outside jest (scripts/sim.ts) it is on.
 */
const DETECT_REAL_ASYNC_DEFAULT = process.env.JEST_WORKER_ID === undefined;

export const EVENTS_MAX_DEFAULT = 10_000_000;
export const SETTLE_ROUNDS_MAX_DEFAULT = 1_000;

/** Queues being driven, so that two runUntil calls can never interleave on one queue. */
const queuesRunning = new WeakSet<EventQueue>();

/**
 * Runs `queue` until `condition()` holds (checked after settling, before each event and after the
 * last), the next event would be later than `limitMs`, the queue is empty, or a budget is spent.
 * An exception from an event, from `afterEvent` or from `condition` propagates (the caller prints
 * its seed and trace); the queue is then left as it was at the throw.
 */
export async function runUntil(queue: EventQueue, condition: () => boolean, limitMs: number, options: RunOptions = {}): Promise<RunResult> {
  const eventsMax = options.eventsMax ?? EVENTS_MAX_DEFAULT;
  const settleRoundsMax = options.settleRoundsMax ?? SETTLE_ROUNDS_MAX_DEFAULT;
  const detectRealAsync = options.detectRealAsync ?? DETECT_REAL_ASYNC_DEFAULT;
  assert(!queuesRunning.has(queue), "runUntil is already driving this queue");
  assert(Number.isSafeInteger(eventsMax) && eventsMax >= 0, "eventsMax must be an integer >= 0");
  queuesRunning.add(queue);
  const baseline = detectRealAsync ? realAsyncResources() : undefined;
  let eventsRun = 0;
  const stop = (reason: StopReason): RunResult => ({ reason, nowMs: queue.now, eventsRun });
  try {
    for (;;) {
      if (!(await settle(settleRoundsMax))) return stop("unsettled");
      if (baseline !== undefined) checkNoNewRealAsync(baseline, queue);
      if (eventsRun > 0) options.afterEvent?.();
      if (condition()) return stop("condition");
      const nextMs = queue.peekTimeMs();
      if (nextMs === undefined) return stop("idle");
      if (nextMs > limitMs) return stop("limit");
      if (eventsRun >= eventsMax) return stop("eventBudget");
      queue.runNext();
      eventsRun++;
    }
  } finally {
    queuesRunning.delete(queue);
  }
}

/**
 * Lets all pending promise jobs, nextTicks and immediates run, round after round, until a round
 * ends with no immediate pending. Returns false if that took more than `roundsMax` rounds.
 */
export async function settle(roundsMax: number): Promise<boolean> {
  assert(Number.isSafeInteger(roundsMax) && roundsMax >= 1, "settle needs at least one round");
  for (let round = 0; round < roundsMax; round++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!immediatesPending()) return true;
  }
  return false;
}

/** Names of pending resources as Node reports them ("Immediate", "Timeout", "FSReqCallback", ...). */
function activeResources(): string[] {
  return process.getActiveResourcesInfo();
}

function immediatesPending(): boolean {
  return activeResources().includes("Immediate");
}

/** Counts of pending real-async resources by name, immediates excluded (settle handles those). */
function realAsyncResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of activeResources()) if (name !== "Immediate") counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** Throws if any kind of real timer, handle or request is more numerous than before the run. */
function checkNoNewRealAsync(baseline: ReadonlyMap<string, number>, queue: EventQueue): void {
  const grown: string[] = [];
  for (const [name, count] of realAsyncResources()) {
    const before = baseline.get(name) ?? 0;
    if (count > before) grown.push(`${name} ${before} -> ${count}`);
  }
  if (grown.length > 0) {
    throw new AssertionError(
      `the code under simulation started real asynchronous work (${grown.join(", ")}) at virtual time ${queue.now}ms: ` +
        "it must use only the simulated timers, network and disk, or the run is not deterministic",
    );
  }
}
