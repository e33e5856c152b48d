/**
 * Assertions detect programmer errors and stay on in production: it is better for a node to stop
 * than to go on in a state it does not understand. Input from clients and peers is never checked
 * with assert; it gets a HashfedError (errors.ts).
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

export function assert(condition: boolean, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertNever(value: never): never {
  throw new AssertionError(`unexpected value: ${JSON.stringify(value)}`);
}
