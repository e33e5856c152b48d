import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/**
 * A certificate authority and a server certificate it issued, made in the test run (DER built here,
 * ECDSA P-256 with SHA-256), so that tests of TLS need no openssl binary and commit no private key.
 * Only what a TLS client checks is in them: names, validity, the CA flag, subjectAltName.
 */
export interface TestCertificates {
  /** The CA's certificate (PEM): what a client trusts. */
  readonly caPem: string;
  /** The server's certificate (PEM), for `localhost` and 127.0.0.1. */
  readonly serverPem: string;
  /** The server's private key (PKCS#8 PEM). */
  readonly serverKeyPem: string;
}

export interface TestCertificateOptions {
  readonly caName?: string;
  /** A server certificate whose validity ended yesterday, or (`"future"`) starts tomorrow. */
  readonly expired?: boolean | "future";
}

export function makeTestCertificates({ caName = "hashfed test CA", expired = false }: TestCertificateOptions = {}): TestCertificates {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const server = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const now = Date.now();
  const caCertificate = certificate({ serial: 1, subject: caName, issuer: caName, publicKey: ca.publicKey, issuerKey: ca.privateKey, isCa: true, validFrom: now - 30 * DAY_MS, validTo: now + 30 * DAY_MS });
  const serverCertificate = certificate({
    serial: 2,
    subject: "localhost",
    issuer: caName,
    publicKey: server.publicKey,
    issuerKey: ca.privateKey,
    isCa: false,
    validFrom: expired === "future" ? now + DAY_MS : now - 30 * DAY_MS,
    validTo: expired === true ? now - DAY_MS : now + 30 * DAY_MS,
  });
  return {
    caPem: pem("CERTIFICATE", caCertificate),
    serverPem: pem("CERTIFICATE", serverCertificate),
    serverKeyPem: server.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

interface CertificateFields {
  readonly serial: number;
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: KeyObject;
  readonly issuerKey: KeyObject;
  readonly isCa: boolean;
  readonly validFrom: number;
  readonly validTo: number;
}

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));
const DAY_MS = 24 * 3600 * 1000;

function certificate(fields: CertificateFields): Buffer {
  const extensions = fields.isCa
    ? [extension("2.5.29.19", true, sequence(der(0x01, Buffer.from([0xff]))))]
    : [extension("2.5.29.17", false, sequence(der(0x82, Buffer.from("localhost")), der(0x87, Buffer.from([127, 0, 0, 1]))))];
  const tbs = sequence(
    der(0xa0, integer(2)),
    integer(fields.serial),
    ECDSA_WITH_SHA256,
    name(fields.issuer),
    sequence(utcTime(new Date(fields.validFrom)), utcTime(new Date(fields.validTo))),
    name(fields.subject),
    fields.publicKey.export({ format: "der", type: "spki" }),
    der(0xa3, sequence(...extensions)),
  );
  return sequence(tbs, ECDSA_WITH_SHA256, der(0x03, Buffer.concat([Buffer.from([0]), sign("sha256", tbs, fields.issuerKey)])));
}

function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

function sequence(...items: Buffer[]): Buffer {
  return der(0x30, Buffer.concat(items));
}

function integer(value: number): Buffer {
  return der(0x02, Buffer.from([value]));
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * first! + second!];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let left = arc >> 7; left > 0; left >>= 7) groups.unshift((left & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A Name of one common name. */
function name(commonName: string): Buffer {
  return sequence(der(0x31, sequence(oid("2.5.4.3"), der(0x0c, Buffer.from(commonName)))));
}

function utcTime(at: Date): Buffer {
  const text = at.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  return der(0x17, Buffer.from(text));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

function pem(label: string, bytes: Buffer): string {
  const lines = bytes.toString("base64").match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
