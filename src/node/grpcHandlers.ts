import { type ServerUnaryCall, type ServiceDefinition, type sendUnaryData, status, type StatusObject, Metadata } from "@grpc/grpc-js";
import { AssertionError } from "../assert";
import { ERROR_CODE_TRAILER, type ErrorKind, HashfedError } from "../errors";

const STATUS_BY_KIND: Record<ErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  "not-found": status.NOT_FOUND,
  exists: status.ALREADY_EXISTS,
  precondition: status.FAILED_PRECONDITION,
  "out-of-range": status.OUT_OF_RANGE,
  exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
};

export type ErrorReporter = (error: unknown, method: string) => void;

/**
 * The gRPC status for an error: a HashfedError maps by kind and keeps its message; anything else
 * is a bug, reported to the operator and answered with INTERNAL without internals.
 */
export function grpcStatusOf(error: unknown, method: string, report: ErrorReporter): Partial<StatusObject> {
  if (error instanceof HashfedError) {
    const metadata = new Metadata();
    metadata.set(ERROR_CODE_TRAILER, error.code);
    return { code: STATUS_BY_KIND[error.kind], details: error.message, metadata };
  }
  report(error, method);
  const what = error instanceof AssertionError ? "an internal check failed" : "an internal error occurred";
  return { code: status.INTERNAL, details: `${what}; the node's log has the details` };
}

/** A request whose bytes did not decode; handlers answer it with INVALID_ARGUMENT. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/**
 * grpc-js answers an undecodable request with INTERNAL. Decoding leniently and rejecting in the
 * handler gives the client INVALID_ARGUMENT and a reason instead.
 */
export function withMalformedRequests<D extends ServiceDefinition>(definition: D): D {
  const wrapped: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new MalformedRequest((error as Error).message);
        }
      },
    };
  }
  return wrapped as unknown as D;
}

export function checkDecoded<T>(request: T | MalformedRequest, what: string): T {
  if (request instanceof MalformedRequest) {
    throw new HashfedError("invalid", "REQUEST_MALFORMED", `the request is not a valid ${what} message: ${request.reason}`);
  }
  return request;
}

/**
 * The network address at the other end of a call (a server's caller, a client's server), without
 * its port: "127.0.0.1"; IPv6 as "::1" from a server's call, "[::1]" from a client's.
 */
export function remoteAddress(call: { getPeer(): string }): string {
  return call.getPeer().replace(/^ipv[46]:/, "").replace(/:\d+$/, "");
}

/** Aborts when the client stops waiting for the call: it cancelled, or its deadline passed. */
export function abandonment(call: ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController();
  if (call.cancelled) controller.abort();
  else call.once("cancelled", () => controller.abort());
  return controller.signal;
}

/** Adapts an async handler to grpc-js's unary callback style; every error becomes a status. */
export function unary<Request, Response>(
  method: string,
  report: ErrorReporter,
  handler: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(checkDecoded(call.request, method), call))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(grpcStatusOf(error, method, report)),
      );
  };
}
