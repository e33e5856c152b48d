import { X509Certificate } from "node:crypto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { KEY_FILE_BYTES_MAX, parseToken } from "../crypto";
import { readBoundedFile } from "../files/boundedFile";
import { HashfedError } from "../errors";
import { checkAddress } from "../federation/address";
import { MemberClient } from "../gen/hashfed/v1/member";
import { isLoopbackAddress } from "../node/memberAccess";
import type { Connection } from "./rpc";

/** How a client reaches a Member service: its token, and TLS (with Node's certificate authorities, or those of `tlsCa`). */
export interface MemberAccess {
  readonly tokenFile?: string;
  readonly tls?: boolean;
  /** PEM certificates of the authorities to trust for the node's certificate; implies TLS. */
  readonly tlsCa?: string;
}

/**
 * The largest answer the CLI takes from a Member service: a Submit of 10,000 statements (the most a
 * federation may allow) carries an inclusion proof for each, up to 22 MB for a log of 2^64
 * entries, past gRPC's default 4 MiB (such answers, committed, had never reached the client).
 */
export const MEMBER_ANSWER_BYTES_MAX = 32 * 1024 * 1024;

/** A file of authorities' certificates is a few KiB; the bound stops a wrong path from being read whole. */
const CA_FILE_BYTES_MAX = 1 << 20;

/**
 * A Member service client. Off loopback a node serves that service over TLS only, so a client
 * there connects over TLS or not at all: whatever answered in the clear would read the hashes sent
 * (and the token). Checked before the token file is read.
 */
export function connectMember(address: string, access: MemberAccess = {}): Connection<MemberClient> {
  // Parsed as the node parses its own: "::1:7400" had passed as loopback here and been dialled elsewhere.
  checkAddress(address, address);
  const tls = access.tls === true || access.tlsCa !== undefined;
  if (!tls && !isLoopbackAddress(address)) {
    throw new HashfedError(
      "invalid",
      "MEMBER_CONNECTION_IN_THE_CLEAR",
      `${address} is not loopback: a node serves its Member service there over TLS only, and what this client sends (hashes, its token) would cross the network in the clear; connect with --tls-ca <file> (or --tls)`,
    );
  }
  const metadata = new Metadata();
  if (access.tokenFile !== undefined) metadata.set("authorization", `Bearer ${parseToken(readTokenText(access.tokenFile), access.tokenFile)}`);
  const answers = { "grpc.max_receive_message_length": MEMBER_ANSWER_BYTES_MAX };
  if (tls) return { client: new MemberClient(address, credentials.createSsl(access.tlsCa === undefined ? null : readCaFile(access.tlsCa)), answers), metadata };
  // A proxy named in the environment (http_proxy, grpc_proxy) would have carried this plaintext call, token and all.
  return { client: new MemberClient(address, credentials.createInsecure(), { ...answers, "grpc.enable_http_proxy": 0 }), metadata };
}

/** The token file's text; refused, as the node refuses its own, if group or others can read it (checked on the file read). */
function readTokenText(path: string): string {
  return readClientFile(path, KEY_FILE_BYTES_MAX, true, (why) => new HashfedError("invalid", "TOKEN_FILE_UNREADABLE", `cannot read the token file ${path}: ${why}`)).toString("utf8");
}

/** The authorities' certificates; a file that holds none is refused here, where TLS would only fail to verify the node. */
function readCaFile(path: string): Buffer {
  const pem = readClientFile(path, CA_FILE_BYTES_MAX, false, (why) => new HashfedError("invalid", "TLS_CA_UNREADABLE", `cannot read the TLS authorities file ${path}: ${why}`));
  try {
    new X509Certificate(pem);
  } catch {
    throw new HashfedError("invalid", "TLS_CA_INVALID", `${path} holds no PEM certificate: give the certificate of the authority that issued the node's (-----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}

function readClientFile(path: string, maxBytes: number, ownerOnly: boolean, unreadable: (why: string) => HashfedError): Buffer {
  return readBoundedFile(path, { maxBytes, ownerOnly }, {
    unopened: (error) => unreadable((error as NodeJS.ErrnoException).code ?? String(error)),
    notRegular: unreadable,
    tooLarge: () => unreadable(`it is larger than ${maxBytes} bytes`),
  });
}
