import type { HashfedError } from "../errors";
import { statementIdKey, type StatementId } from "../statements";

interface Waiter {
  resolve(logIndex: number): void;
  reject(error: HashfedError): void;
}

/** Clients waiting for their statements to commit, by statement id. */
export class CommitWaiters {
  private readonly waiters = new Map<string, Waiter[]>();

  wait(id: StatementId): Promise<number> {
    return new Promise((resolve, reject) => {
      const key = statementIdKey(id);
      const list = this.waiters.get(key);
      if (list === undefined) this.waiters.set(key, [{ resolve, reject }]);
      else list.push({ resolve, reject });
    });
  }

  committed(id: StatementId, logIndex: number): void {
    this.settle(id, (waiter) => waiter.resolve(logIndex));
  }

  rejected(id: StatementId, error: HashfedError): void {
    this.settle(id, (waiter) => waiter.reject(error));
  }

  private settle(id: StatementId, action: (waiter: Waiter) => void): void {
    const key = statementIdKey(id);
    const list = this.waiters.get(key);
    if (list === undefined) return;
    this.waiters.delete(key);
    for (const waiter of list) action(waiter);
  }
}
