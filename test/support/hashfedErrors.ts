import { HashfedError } from "../../src/errors";

/**
 * Capturing operating errors so a test can check kind, code and message together. Anything thrown
 * that is not a HashfedError (an assertion failure, a TypeError) is rethrown: it would be a bug,
 * not the refusal the test expects.
 */

/** The HashfedError `action` throws; fails the test when it throws nothing. */
export function hashfedError(action: () => unknown): HashfedError {
  try {
    action();
  } catch (error) {
    if (error instanceof HashfedError) return error;
    throw error;
  }
  throw new Error("expected a HashfedError, but nothing was thrown");
}

/** The HashfedError `promise` rejects with; fails the test when it resolves. */
export async function hashfedRejection(promise: Promise<unknown>): Promise<HashfedError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HashfedError) return error;
    throw error;
  }
  throw new Error("expected a HashfedError, but the promise resolved");
}

/** kind, code and message of an error, in one object for toEqual/toMatchObject. */
export function described(error: HashfedError): { kind: string; code: string; message: string } {
  return { kind: error.kind, code: error.code, message: error.message };
}
