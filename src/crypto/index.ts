/** Ed25519 keys and signing for hashfed: C2SP key texts and signed notes, domain-separated signatures, key files. */
export { generateSeed, PUBLIC_KEY_BYTES, SEED_BYTES, SIGNATURE_BYTES } from "./ed25519";
export {
  checkKeyName,
  ED25519_KEY_TYPE,
  KEY_ID_BYTES,
  keyId,
  parsePrivateKey,
  parseVerifierKey,
  type PrivateKey,
  privateKeyFromSeed,
  type VerifierKey,
  verifierKeyFromPublicKey,
} from "./keys";
export {
  checkOwnerOnly,
  KEY_FILE_BYTES_MAX,
  type KeyFileWriteOptions,
  PRIVATE_KEY_FILE_MODE,
  readPrivateKeyFile,
  parseToken,
  readTokenFile,
  readVerifierKeyFile,
  TOKEN_CHARS_MIN,
  VERIFIER_KEY_FILE_MODE,
  writePrivateKeyFile,
  writeVerifierKeyFile,
} from "./keyFile";
export {
  checkNoteText,
  ED25519_NOTE_SIGNATURE_BYTES,
  formatNote,
  type Note,
  NOTE_BYTES_MAX,
  NOTE_SIGNATURE_BYTES_MIN,
  NOTE_SIGNATURE_LINE_BYTES_MAX,
  NOTE_SIGNATURES_MAX,
  NOTE_TEXT_BYTES_MAX,
  type NoteSignature,
  noteSignatureBytes,
  noteSignatureFromBytes,
  noteSignatureLine,
  openNote,
  parseNote,
  parseNoteBytes,
  parseNoteSignatureLine,
  signNoteText,
  verifyNoteSignatures,
} from "./signedNote";
export { KeySigner, type Signer } from "./signer";
export { domainMessage, SIGNING_DOMAIN_PREFIX, SIGNING_DOMAINS, type SigningDomain, verifyInDomain } from "./signingDomain";
