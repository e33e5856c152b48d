import { createHash } from "node:crypto";
import { verifyEd25519 } from "./ed25519";
import type { VerifierKey } from "./keys";

/**
 * Outcomes of recent signature checks, by a hash of everything checked: consensus messages reach a
 * node several times (relay, re-sends to lagging peers, the certificate checked again at commit),
 * and a check costs ~160 µs where the hash costs ~2 µs. Bounded: cleared when full.
 */
const recentChecks = new Map<string, boolean>();
const RECENT_CHECKS_MAX = 1 << 16;

/** verifyEd25519, remembering the outcome for the same key, signature and message. */
export function verifyRemembered(key: VerifierKey, message: Uint8Array, signature: Uint8Array): boolean {
  const name = checkName(key, message, signature);
  const known = recentChecks.get(name);
  if (known !== undefined) return known;
  const valid = verifyEd25519(key.keyObject, message, signature);
  remember(name, valid);
  return valid;
}

/**
 * Records a signature this process just made with the private half of `key` as valid: a node hears
 * its own votes and checkpoint signatures back like a peer's, and need not check what it signed.
 */
export function rememberSigned(key: VerifierKey, message: Uint8Array, signature: Uint8Array): void {
  remember(checkName(key, message, signature), true);
}

function checkName(key: VerifierKey, message: Uint8Array, signature: Uint8Array): string {
  // The signature's length goes first, so that no other (message, signature) split hashes the same.
  const length = Buffer.alloc(4);
  length.writeUInt32BE(signature.length);
  return createHash("sha256").update(key.publicKey).update(length).update(signature).update(message).digest("base64");
}

function remember(name: string, valid: boolean): void {
  if (recentChecks.size >= RECENT_CHECKS_MAX) recentChecks.clear();
  recentChecks.set(name, valid);
}
