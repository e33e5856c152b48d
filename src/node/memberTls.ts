import { X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import { readBoundedFile } from "../files/boundedFile";

/**
 * The Member service's TLS certificate chain and private key, PEM. Off loopback the service is
 * served over TLS only: its member token is a bearer secret, and its answers carry the reveals
 * (the hashes themselves), neither of which may cross a network in the clear.
 */
export interface MemberTls {
  readonly certificateChain: Buffer;
  readonly privateKey: Buffer;
  /** Where they were read from, for the refusal of a pair that TLS would not take. */
  readonly source?: string;
}

/** A certificate chain is a few KiB; the bound stops a wrong path (a disk image) from being read whole. */
const TLS_FILE_BYTES_MAX = 1 << 20;

/**
 * Reads the pair as the node is told to use it: the key file must be owner-only (as the member's
 * key is). Whether TLS takes them, a key that matches the first certificate, the node's start
 * checks (checkMemberTls), naming these files.
 */
export function readMemberTls(certificateFile: string, keyFile: string): MemberTls {
  return { certificateChain: readTlsFile(certificateFile, false), privateKey: readTlsFile(keyFile, true), source: `${certificateFile} and ${keyFile}` };
}

/** Refuses a pair TLS would refuse at the first connection: checked at start. */
export function checkMemberTls(tls: MemberTls): void {
  try {
    createSecureContext({ cert: tls.certificateChain, key: tls.privateKey });
  } catch (error) {
    const what = tls.source ?? "the Member service's TLS certificate and key";
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

function readTlsFile(path: string, secret: boolean): Buffer {
  const unreadable = (why: string): HashfedError => new HashfedError("invalid", "MEMBER_TLS_UNREADABLE", `cannot read the TLS file ${path}: ${why}`);
  return readBoundedFile(path, { maxBytes: TLS_FILE_BYTES_MAX, ownerOnly: secret }, {
    unopened: (error) => unreadable((error as NodeJS.ErrnoException).code ?? String(error)),
    notRegular: unreadable,
    tooLarge: () => unreadable(`it is larger than ${TLS_FILE_BYTES_MAX} bytes, and a PEM certificate chain or key is smaller`),
  });
}
