import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { type CallOptions, type Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { checkOwnerOnly, parseToken } from "../crypto";
import { ERROR_CODE_TRAILER, HashfedError } from "../errors";
import { LogClient } from "../gen/hashfed/v1/log";
import { MemberClient } from "../gen/hashfed/v1/member";
import { isLoopbackAddress } from "../node/memberAccess";

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

/** How a client reaches a Member service: its token, and TLS (with the system's roots, or those of `tlsCa`). */
export interface MemberAccess {
  readonly tokenFile?: string;
  readonly tls?: boolean;
  /** PEM certificates of the authorities to trust for the node's certificate; implies TLS. */
  readonly tlsCa?: string;
}

export function connectMember(address: string, access: MemberAccess = {}): Connection<MemberClient> {
  const metadata = new Metadata();
  const tls = access.tls === true || access.tlsCa !== undefined;
  if (access.tokenFile !== undefined) {
    // Checked before the file is read: the token is a bearer secret, and whoever sees it may use it.
    if (!tls && !isLoopbackAddress(address)) {
      throw new HashfedError("invalid", "TOKEN_IN_THE_CLEAR", `${address} is not loopback: the token would cross the network in the clear; connect with --tls (or --tls-ca <file>)`);
    }
    metadata.set("authorization", `Bearer ${parseToken(readTokenText(access.tokenFile), access.tokenFile)}`);
  }
  const channel = tls ? credentials.createSsl(access.tlsCa === undefined ? null : readCaFile(access.tlsCa)) : credentials.createInsecure();
  return { client: new MemberClient(address, channel), metadata };
}

/** The authorities' certificates; a file that holds none is refused here, where TLS would only fail to verify the node. */
function readCaFile(path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    throw new HashfedError("invalid", "TLS_CA_UNREADABLE", `cannot read the TLS authorities file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw new HashfedError("invalid", "TLS_CA_INVALID", `${path} holds no PEM certificate: give the certificate of the authority that issued the node's (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

/** The token file's text; refused, as the node refuses its own, if group or others can read it. */
function readTokenText(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === "EISDIR" ? "it is a folder" : ((error as NodeJS.ErrnoException).code ?? String(error));
    throw new HashfedError("invalid", "TOKEN_FILE_UNREADABLE", `cannot read the token file ${path}: ${why}`);
  }
  checkOwnerOnly(path, statSync(path).mode);
  return text;
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

/** A gRPC failure as a person reads it: the status name and the server's message. */
export function describeRpcError(error: ServiceError): string {
  const name = status[error.code] ?? String(error.code);
  if (error.code === status.UNAVAILABLE && /certificate/i.test(error.details ?? "")) {
    return `${name}: the node's TLS certificate is not one this client trusts (${error.details}); give --tls-ca with the authority that issued it, and the node's address as the certificate names it`;
  }
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
