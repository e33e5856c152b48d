import { open } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import { checkOwnerOnly } from "../crypto";
import { HashfedError } from "../errors";

/**
 * The Member service's TLS certificate chain and private key, PEM. Off loopback the service is
 * served over TLS only: its member token is a bearer secret, and its answers carry the reveals
 * (the hashes themselves), neither of which may cross a network in the clear.
 */
export interface MemberTls {
  readonly certificateChain: Buffer;
  readonly privateKey: Buffer;
}

/** A certificate chain is a few KiB; the bound stops a wrong path (a disk image) from being read whole. */
const TLS_FILE_BYTES_MAX = 1 << 20;

/**
 * Reads the pair as the node is told to use it: the key file must be owner-only (as the member's
 * key is), and both must be what TLS takes, a key that matches the first certificate, or the
 * node does not start.
 */
export async function readMemberTls(certificateFile: string, keyFile: string): Promise<MemberTls> {
  const tls = { certificateChain: await readTlsFile(certificateFile, false), privateKey: await readTlsFile(keyFile, true) };
  checkMemberTls(tls, `${certificateFile} and ${keyFile}`);
  return tls;
}

/** Refuses a pair TLS would refuse at the first connection: checked at start, with the files named. */
export function checkMemberTls(tls: MemberTls, what = "the Member service's TLS certificate and key"): void {
  try {
    createSecureContext({ cert: tls.certificateChain, key: tls.privateKey });
  } catch (error) {
    throw new HashfedError("invalid", "MEMBER_TLS_INVALID", `${what} are not a usable TLS certificate chain and matching private key in PEM: ${(error as Error).message}`);
  }
}

export function memberServerCredentials(tls: MemberTls | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(null, [{ cert_chain: tls.certificateChain, private_key: tls.privateKey }], false);
}

async function readTlsFile(path: string, secret: boolean): Promise<Buffer> {
  const handle = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `cannot read the TLS file ${path}: ${error.code ?? error.message}`);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `the TLS file ${path} is not a regular file`);
    if (secret) checkOwnerOnly(path, stats.mode);
    if (stats.size > TLS_FILE_BYTES_MAX) throw new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `the TLS file ${path} is ${stats.size} bytes; a PEM certificate chain or key is at most ${TLS_FILE_BYTES_MAX}`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
