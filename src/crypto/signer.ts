import { signEd25519 } from "./ed25519";
import { rememberSigned } from "./verifyRemembered";
import type { PrivateKey, VerifierKey } from "./keys";
import { type NoteSignature, signNoteText } from "./signedNote";
import { domainMessage, type SigningDomain } from "./signingDomain";

/**
 * What the core needs from a member's key: domain-separated signatures and signed-note signatures.
 * The shell injects a Signer, so the core never holds key material and tests can supply their own.
 */
export interface Signer {
  readonly name: string;
  readonly verifierKey: VerifierKey;
  /** Ed25519 over "hashfed/v1/<domain>\n" || bytes (signingDomain.ts). */
  sign(domain: SigningDomain, bytes: Uint8Array): Buffer;
  /** A C2SP note signature over `text`, which must be a valid note text (signedNote.ts). */
  signNote(text: string): NoteSignature;
}

/** A Signer holding a private key in memory. */
export class KeySigner implements Signer {
  readonly name: string;
  readonly verifierKey: VerifierKey;
  // A private field: the key does not show up when the signer is logged, inspected or serialised.
  readonly #key: PrivateKey;

  constructor(key: PrivateKey) {
    this.name = key.name;
    this.verifierKey = key.verifierKey;
    this.#key = key;
  }

  sign(domain: SigningDomain, bytes: Uint8Array): Buffer {
    const message = domainMessage(domain, bytes);
    const signature = signEd25519(this.#key.keyObject, message);
    rememberSigned(this.verifierKey, message, signature);
    return signature;
  }

  signNote(text: string): NoteSignature {
    const signed = signNoteText(text, this.#key);
    rememberSigned(this.verifierKey, Buffer.from(text, "utf8"), signed.signature);
    return signed;
  }
}
