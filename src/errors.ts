/**
 * Operating errors: expected, handled, reported to a person. Each carries a bounded `code` (usable as
 * a metric label) and a `kind` that the shell maps to a gRPC status. Programmer errors are not
 * HashfedErrors: they are assertion failures (see assert.ts).
 */
export type ErrorKind =
  | "invalid" // malformed input: INVALID_ARGUMENT
  | "unauthenticated" // a signature or credential does not verify: UNAUTHENTICATED
  | "forbidden" // well-formed and authentic, but not allowed for this caller: PERMISSION_DENIED
  | "not-found" // NOT_FOUND
  | "exists" // ALREADY_EXISTS
  | "precondition" // the log's state does not allow it: FAILED_PRECONDITION
  | "out-of-range" // an index or size past what exists: OUT_OF_RANGE
  | "exhausted" // a limit was hit: RESOURCE_EXHAUSTED
  | "unavailable"; // try again later: UNAVAILABLE

export class HashfedError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HashfedError";
  }
}

/** The gRPC trailer that carries a HashfedError's code to the client, beside the status. */
export const ERROR_CODE_TRAILER = "hashfed-error-code";

export function invalid(code: string, message: string): HashfedError {
  return new HashfedError("invalid", code, message);
}

/** The same error with `where` in front of its message, e.g. "submissions[3]: ...". */
export function locate(where: string, error: unknown): unknown {
  if (!(error instanceof HashfedError)) return error;
  return new HashfedError(error.kind, error.code, `${where}: ${error.message}`);
}

/** Runs `step` (sync or async), locating any HashfedError it raises at `where`. */
export function locating<T>(where: string, step: () => T): T {
  try {
    const result = step();
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        throw locate(where, error);
      }) as T;
    }
    return result;
  } catch (error) {
    throw locate(where, error);
  }
}
