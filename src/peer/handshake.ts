import { HashfedError, invalid } from "../errors";
import type { Signer } from "../crypto/signer";
import { verifyInDomain } from "../crypto/signingDomain";
import { type Federation, type Member, memberByName } from "../federation";
import { describe } from "../federation/fields";

export const PEER_NONCE_BYTES = 32;

export type HandshakeRole = "caller" | "callee";

/**
 * The peer protocol's version, signed in every transcript: a node of another version fails at the
 * handshake, not after it (before version 2 links were not encrypted, and an older node's plain
 * frames would have been refused as forged, its link coming up and failing for good).
 */
const PEER_PROTOCOL_VERSION = 2;

/** Everything a handshake signature binds: the federation, both members, both nonces, and the signer's role. */
export interface HandshakeTranscript {
  readonly federationId: Buffer;
  readonly caller: string;
  readonly callee: string;
  readonly callerNonce: Buffer;
  readonly calleeNonce: Buffer;
}

/**
 * The bytes each end signs in the peer-auth domain. Fresh nonces from both ends (each the public
 * half of an X25519 key made for the connection: see linkCipher) make a signature good for one
 * connection only, and fix the link's keys; the version byte keeps nodes of other peer protocols
 * out; the role byte keeps the caller's signature from passing for the callee's; lengths prefix the
 * names so no two transcripts encode alike.
 */
export function transcriptBytes(role: HandshakeRole, transcript: HandshakeTranscript): Buffer {
  const name = (text: string): Buffer => {
    const bytes = Buffer.from(text, "utf8");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  };
  return Buffer.concat([
    Buffer.from([PEER_PROTOCOL_VERSION, role === "caller" ? 1 : 2]),
    transcript.federationId,
    name(transcript.caller),
    name(transcript.callee),
    transcript.callerNonce,
    transcript.calleeNonce,
  ]);
}

export function signHandshake(signer: Signer, role: HandshakeRole, transcript: HandshakeTranscript): Buffer {
  return signer.sign("peer-auth", transcriptBytes(role, transcript));
}

/**
 * Checks one end's handshake signature: the named member exists in the federation and signed this
 * transcript in this role. Returns the member; a connection that cannot prove a member's key is refused.
 */
export function verifyHandshake(federation: Federation, role: HandshakeRole, transcript: HandshakeTranscript, signature: Uint8Array): Member {
  if (!transcript.federationId.equals(federation.id)) throw invalid("PEER_OTHER_FEDERATION", "the peer is in another federation");
  if (transcript.callerNonce.length !== PEER_NONCE_BYTES || transcript.calleeNonce.length !== PEER_NONCE_BYTES) {
    throw invalid("PEER_HANDSHAKE_MALFORMED", `handshake nonces are ${PEER_NONCE_BYTES} bytes`);
  }
  const name = role === "caller" ? transcript.caller : transcript.callee;
  const member = memberByName(federation, name);
  if (member === undefined) throw new HashfedError("unauthenticated", "PEER_NOT_A_MEMBER", `${describe(name)} is not a member of this federation`);
  if (!verifyInDomain(member.key, "peer-auth", transcriptBytes(role, transcript), signature)) {
    throw new HashfedError(
      "unauthenticated",
      "PEER_PROOF_INVALID",
      `the handshake signature does not verify under ${name}'s key (a node of another hashfed version, whose peer protocol differs, fails so too)`,
    );
  }
  return member;
}
