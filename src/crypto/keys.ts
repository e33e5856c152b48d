import { createHash, KeyObject } from "node:crypto";
import { invalid } from "../errors";
import { isStrongPublicKey, privateKeyObject, PUBLIC_KEY_BYTES, publicKeyFromSeed, publicKeyObject, SEED_BYTES } from "./ed25519";

/**
 * Keys in the C2SP signed-note formats (c2sp.org/signed-note):
 *   verifier key  name+hex(keyID)+base64(0x01 || publicKey)
 *   private key   PRIVATE+KEY+name+hex(keyID)+base64(0x01 || seed)
 * where keyID = SHA-256(name || "\n" || 0x01 || publicKey)[:4]. 0x01 is the Ed25519 key type.
 */
export const ED25519_KEY_TYPE = 0x01;
export const KEY_ID_BYTES = 4;
const PRIVATE_KEY_PREFIX = "PRIVATE+KEY+";

export interface VerifierKey {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: Buffer;
  /** The KeyObject node:crypto verifies with, built once. */
  readonly keyObject: KeyObject;
  /** The canonical text form. */
  readonly text: string;
}

export interface PrivateKey {
  readonly name: string;
  readonly keyId: Buffer;
  readonly seed: Buffer;
  readonly publicKey: Buffer;
  readonly keyObject: KeyObject;
  readonly verifierKey: VerifierKey;
  /** The canonical text form: a secret. */
  readonly text: string;
}

/**
 * A key name is non-empty, well-formed text without Unicode spaces or '+' (C2SP signed-note). Control
 * characters are refused too, since a note may not contain them, and so are lone surrogates, which
 * have no UTF-8 encoding and would be replaced silently when the name is written out.
 */
export function checkKeyName(name: string): void {
  if (name.length === 0) throw invalid("KEY_NAME_EMPTY", "a key name must not be empty");
  if (/[\s+\p{Cc}\p{Cs}]/u.test(name)) {
    throw invalid("KEY_NAME_BAD", `key name ${JSON.stringify(name)} must not contain spaces, '+' or control characters`);
  }
}

export function keyId(name: string, publicKey: Uint8Array): Buffer {
  return createHash("sha256")
    .update(name, "utf8")
    .update(Buffer.from([0x0a, ED25519_KEY_TYPE]))
    .update(publicKey)
    .digest()
    .subarray(0, KEY_ID_BYTES);
}

export function verifierKeyFromPublicKey(name: string, publicKey: Uint8Array): VerifierKey {
  checkKeyName(name);
  if (publicKey.length !== PUBLIC_KEY_BYTES) {
    throw invalid("KEY_BAD_LENGTH", `an Ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.length}`);
  }
  if (!isStrongPublicKey(publicKey)) {
    throw invalid("KEY_WEAK", `${name}'s public key is a point of small order or not a canonical encoding: signatures under it prove nothing (anyone can make one)`);
  }
  const id = keyId(name, publicKey);
  const encoded = Buffer.concat([Buffer.from([ED25519_KEY_TYPE]), publicKey]).toString("base64");
  return {
    name,
    keyId: id,
    publicKey: Buffer.from(publicKey),
    keyObject: publicKeyObject(publicKey),
    text: `${name}+${id.toString("hex")}+${encoded}`,
  };
}

export function privateKeyFromSeed(name: string, seed: Uint8Array): PrivateKey {
  checkKeyName(name);
  if (seed.length !== SEED_BYTES) throw invalid("KEY_BAD_LENGTH", `an Ed25519 seed is ${SEED_BYTES} bytes, got ${seed.length}`);
  const verifierKey = verifierKeyFromPublicKey(name, publicKeyFromSeed(seed));
  const encoded = Buffer.concat([Buffer.from([ED25519_KEY_TYPE]), seed]).toString("base64");
  return {
    name,
    keyId: verifierKey.keyId,
    seed: Buffer.from(seed),
    publicKey: verifierKey.publicKey,
    keyObject: privateKeyObject(seed),
    verifierKey,
    text: `${PRIVATE_KEY_PREFIX}${name}+${verifierKey.keyId.toString("hex")}+${encoded}`,
  };
}

export function parseVerifierKey(text: string): VerifierKey {
  // No verifier key starts this way ("KEY" is not a key id); naming the mistake helps keep the secret secret.
  if (text.startsWith(PRIVATE_KEY_PREFIX)) throw invalid("KEY_MALFORMED", "this is a private key, not a verifier key");
  const { name, keyIdHex, keyBytes } = splitKeyText(text, "verifier key");
  checkKeyIdMatches(keyId(name, keyBytes), keyIdHex, name);
  return verifierKeyFromPublicKey(name, keyBytes);
}

export function parsePrivateKey(text: string): PrivateKey {
  if (!text.startsWith(PRIVATE_KEY_PREFIX)) {
    throw invalid("KEY_MALFORMED", `a private key starts with ${PRIVATE_KEY_PREFIX}`);
  }
  const { name, keyIdHex, keyBytes } = splitKeyText(text.slice(PRIVATE_KEY_PREFIX.length), "private key");
  // Checked before the key objects are built, so a mangled text is refused cheaply.
  checkKeyIdMatches(keyId(name, publicKeyFromSeed(keyBytes)), keyIdHex, name);
  return privateKeyFromSeed(name, keyBytes);
}

/**
 * Splits `name+hexid+base64(type||key)` and checks the form of every part. Only the first two '+'
 * separate parts: base64 uses '+' itself, so the key part may contain more of them. Both key kinds
 * (public key, seed) are 32 bytes. Messages never quote the key part, which is a secret in a
 * private key.
 */
function splitKeyText(text: string, what: string): { name: string; keyIdHex: string; keyBytes: Buffer } {
  const nameEnd = text.indexOf("+");
  const keyIdEnd = nameEnd < 0 ? -1 : text.indexOf("+", nameEnd + 1);
  if (keyIdEnd < 0) throw invalid("KEY_MALFORMED", `a ${what} has the form name+keyid+key`);
  const name = text.slice(0, nameEnd);
  const keyIdHex = text.slice(nameEnd + 1, keyIdEnd);
  const encoded = text.slice(keyIdEnd + 1);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(keyIdHex)) throw invalid("KEY_MALFORMED", `the key id of a ${what} is 8 lower-case hex digits`);
  const decoded = Buffer.from(encoded, "base64");
  // Node's decoder skips characters outside the alphabet; re-encoding catches them and any
  // non-canonical padding, so one text never names a key two ways.
  if (decoded.toString("base64") !== encoded) throw invalid("KEY_MALFORMED", `the key part of a ${what} is not canonical base64`);
  if (decoded.length !== 1 + PUBLIC_KEY_BYTES) {
    throw invalid("KEY_BAD_LENGTH", `the key part of a ${what} is ${1 + PUBLIC_KEY_BYTES} bytes, got ${decoded.length}`);
  }
  if (decoded[0] !== ED25519_KEY_TYPE) {
    throw invalid("KEY_UNSUPPORTED_TYPE", `only Ed25519 keys (type 0x01) are supported, got type 0x${decoded[0]!.toString(16).padStart(2, "0")}`);
  }
  return { name, keyIdHex, keyBytes: decoded.subarray(1) };
}

function checkKeyIdMatches(computed: Buffer, keyIdHex: string, name: string): void {
  if (computed.toString("hex") !== keyIdHex) {
    throw invalid("KEY_ID_MISMATCH", `the key id ${keyIdHex} does not match name ${JSON.stringify(name)} and the key`);
  }
}
