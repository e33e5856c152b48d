import { X509Certificate } from "node:crypto";
import { constants } from "node:fs";
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

/**
 * What an operator must hear at start about the certificate's dates: clients refuse one that has
 * expired or is not valid yet. Said, not refused: a validator's consensus does not wait on it.
 */
export function memberTlsDateNotice(tls: MemberTls, nowMs: number): string | undefined {
  const certificate = new X509Certificate(tls.certificateChain);
  if (nowMs > Date.parse(certificate.validTo)) return `the Member service's TLS certificate expired on ${certificate.validTo}: clients refuse it; renew it`;
  if (nowMs < Date.parse(certificate.validFrom)) return `the Member service's TLS certificate is not valid before ${certificate.validFrom}: clients refuse it until then`;
  return undefined;
}

export function memberServerCredentials(tls: MemberTls | undefined): ServerCredentials {
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(null, [{ cert_chain: tls.certificateChain, private_key: tls.privateKey }], false);
}

async function readTlsFile(path: string, secret: boolean): Promise<Buffer> {
  // Non-blocking, so that a FIFO given as the file fails the check below instead of waiting for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    throw new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `cannot read the TLS file ${path}: ${error.code ?? error.message}`);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `the TLS file ${path} is not a regular file`);
    if (secret) checkOwnerOnly(path, stats.mode);
    // Read to one byte past the bound, in case the file grew since stat.
    const buffer = Buffer.alloc(TLS_FILE_BYTES_MAX + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > TLS_FILE_BYTES_MAX) throw new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `the TLS file ${path} is larger than ${TLS_FILE_BYTES_MAX} bytes; a PEM certificate chain or key is smaller`);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
