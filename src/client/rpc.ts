import { type CallOptions, type Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { ERROR_CODE_TRAILER } from "../errors";
import { LogClient } from "../gen/hashfed/v1/log";
export { connectMember, type MemberAccess } from "./memberConnection";

/**
 * A unary method of a generated client. TypeScript infers from the last overload, which is the
 * (request, metadata, options, callback) form.
 */
export type UnaryMethod<Request, Response> = (
  request: Request,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Response) => void,
) => unknown;

export interface Connection<C extends Client> {
  readonly client: C;
  readonly metadata: Metadata;
}

export function connectLog(address: string): Connection<LogClient> {
  return { client: new LogClient(address, credentials.createInsecure()), metadata: new Metadata() };
}

/** One unary call; with `deadlineMs`, it fails with DEADLINE_EXCEEDED when the node takes longer. */
export function call<C extends Client, Request, Response>(
  connection: Connection<C>,
  method: UnaryMethod<Request, Response>,
  request: Request,
  deadlineMs?: number,
): Promise<Response> {
  const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return new Promise((resolve, reject) => {
    method.call(connection.client, request, connection.metadata, options, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Where each service of a node listens, for a call sent to the other one. */
const ADDRESS_OF: Record<string, string> = {
  Log: "the node's Log address (its address in the federation file, port 7401 by default), not its Member address",
  Member: "the node's Member address (--member-listen, 127.0.0.1:7400 by default), not its Log address",
};

/**
 * What a connection that failed as it opened means for the person at the client, by grpc-js's,
 * OpenSSL's and Node's words for it; the first that fits.
 */
const CONNECTION_FAILURES: readonly (readonly [RegExp, string])[] = [
  [/certificate has expired/i, "the node's TLS certificate has expired; its operator must renew it"],
  [/certificate is not yet valid/i, "the node's TLS certificate is not valid yet (or this machine's clock is behind)"],
  [/altnames/i, "the node's TLS certificate does not name this address; give --node as the certificate names the node"],
  [/wrong version number/i, "the node does not serve TLS at this address; on loopback, connect without --tls and --tls-ca"],
  [/certificate/i, "the node's TLS certificate is not one this client trusts; give --tls-ca with the authority that issued it"],
  // Reached, then closed before gRPC could speak (a port nothing listens on says ECONNREFUSED).
  [
    /Last error: Failed to connect/,
    "the node closed the connection as it opened: it may serve TLS at this address (connect with --tls-ca or --tls), or hold as many connections from this address as it takes (its log says so)",
  ],
];

/** A gRPC failure as a person reads it: the status name and the server's message. */
export function describeRpcError(error: ServiceError): string {
  const name = status[error.code] ?? String(error.code);
  const failure = error.code === status.UNAVAILABLE ? CONNECTION_FAILURES.find(([pattern]) => pattern.test(error.details ?? "")) : undefined;
  if (failure !== undefined) return `${name}: ${failure[1]} (${error.details})`;
  if (error.code === status.UNAVAILABLE) return `${name}: cannot reach the node (${error.details})`;
  if (error.code === status.CANCELLED) return `${name}: the node closed the call (it may be stopping)`;
  // A node serves the Member service and the Log service on two ports: the likeliest cause is the other one's address.
  const wanted = /\/hashfed\.v1\.(Log|Member)\//.exec(error.details ?? "")?.[1];
  if (error.code === status.UNIMPLEMENTED && wanted !== undefined) return `${name}: ${error.details}; this address serves another service: give ${ADDRESS_OF[wanted]}`;
  return `${name}: ${error.details}`;
}

/** The node's code for a failed call (a HashfedError's, such as MATCH_TOO_MANY_MATCHES), if it sent one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (!isRpcError(error)) return undefined;
  const code = error.metadata.get(ERROR_CODE_TRAILER)[0];
  return code === undefined ? undefined : String(code);
}

export function isRpcError(error: unknown): error is ServiceError {
  return typeof error === "object" && error !== null && "code" in error && "details" in error && "metadata" in error;
}
