import { HashfedError } from "../errors";
import { statementIdKey, type StatementId } from "../statements";

interface Waiter {
  resolve(logIndex: number): void;
  reject(error: HashfedError): void;
}

/** Clients waiting for their statements to commit, by statement id. */
export class CommitWaiters {
  private readonly waiters = new Map<string, Waiter[]>();
  private count = 0;
  /** The waits of each client call that can be abandoned: one abort listener a call, not one a statement. */
  private readonly byCall = new WeakMap<AbortSignal, { key: string; waiter: Waiter }[]>();

  /**
   * Resolves with the statement's log index once it commits. A wait whose client went away
   * (`abandoned` aborts) is dropped at once: while consensus stalls, a client retrying with a
   * deadline would otherwise leave a waiter, and its whole request, behind at every try.
   */
  wait(id: StatementId, abandoned?: AbortSignal): Promise<number> {
    if (abandoned?.aborted === true) return Promise.reject(abandonedError());
    return new Promise((resolve, reject) => {
      const key = statementIdKey(id);
      const waiter = { resolve, reject };
      const list = this.waiters.get(key);
      if (list === undefined) this.waiters.set(key, [waiter]);
      else list.push(waiter);
      this.count++;
      if (abandoned !== undefined) this.abandonedWith(abandoned).push({ key, waiter });
    });
  }

  /** How many waits are under way (a statement waited for twice counts twice). */
  get waiting(): number {
    return this.count;
  }

  /** The statement whose statementIdKey is `key` committed at `logIndex`. */
  committed(key: string, logIndex: number): void {
    this.settle(key, (waiter) => waiter.resolve(logIndex));
  }

  /** The statement whose statementIdKey is `key` was refused. */
  rejected(key: string, error: HashfedError): void {
    this.settle(key, (waiter) => waiter.reject(error));
  }

  private settle(key: string, action: (waiter: Waiter) => void): void {
    const list = this.waiters.get(key);
    if (list === undefined) return;
    this.waiters.delete(key);
    this.count -= list.length;
    for (const waiter of list) action(waiter);
  }

  private abandonedWith(abandoned: AbortSignal): { key: string; waiter: Waiter }[] {
    let waits = this.byCall.get(abandoned);
    if (waits === undefined) {
      const list: { key: string; waiter: Waiter }[] = [];
      abandoned.addEventListener("abort", () => list.forEach(({ key, waiter }) => this.drop(key, waiter)), { once: true });
      this.byCall.set(abandoned, list);
      waits = list;
    }
    return waits;
  }

  private drop(key: string, waiter: Waiter): void {
    const list = this.waiters.get(key);
    const position = list?.indexOf(waiter) ?? -1;
    if (position < 0) return;
    list!.splice(position, 1);
    if (list!.length === 0) this.waiters.delete(key);
    this.count--;
    waiter.reject(abandonedError());
  }
}

function abandonedError(): HashfedError {
  return new HashfedError("unavailable", "SUBMIT_ABANDONED", "the client stopped waiting; the statement may still commit, and submitting it again is safe");
}
