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
  // The signature's length goes first, so that no other (message, signature) split hashes the same.
  const length = Buffer.alloc(4);
  length.writeUInt32BE(signature.length);
  const name = createHash("sha256").update(key.publicKey).update(length).update(signature).update(message).digest("base64");
  const known = recentChecks.get(name);
  if (known !== undefined) return known;
  const valid = verifyEd25519(key.keyObject, message, signature);
  if (recentChecks.size >= RECENT_CHECKS_MAX) recentChecks.clear();
  recentChecks.set(name, valid);
  return valid;
}
