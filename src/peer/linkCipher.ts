import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from "node:crypto";
import { invalid } from "../errors";
import type { Entropy } from "../node/environment";
import { type HandshakeRole, type HandshakeTranscript, transcriptBytes } from "./handshake";

/**
 * A peer link's encryption. Each end's handshake nonce is the public half of an X25519 key made for
 * that one connection, and the transcript both ends sign binds the two: only the two ends can
 * derive the link's keys. Without it, someone on the path who relayed a handshake (one whose DNS
 * answer pointed a node at it) had both ends authenticate each other through it, and then read
 * every reveal and could forge the messages that carry no signature of their own (statuses, sync
 * requests) as either member. Each direction has its own key; each frame is sealed with
 * AES-256-GCM under a counter that only goes up, so a frame cannot be replayed, reordered or moved
 * to the other direction.
 */

const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");
const COUNTER_BYTES = 8;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** The X25519 key of one connection's end: its public half is the handshake nonce this end sends. */
export class EphemeralKey {
  readonly publicKey: Buffer;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(X25519_SPKI_PREFIX.length);
  }

  static generate(entropy: Entropy): EphemeralKey {
    const secret = entropy.randomBytes(KEY_BYTES);
    return new EphemeralKey(createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, secret]), format: "der", type: "pkcs8" }));
  }

  /**
   * The link's two ciphers, for this end in `role`, once the other end's nonce in `transcript`
   * is known. A nonce that is no usable X25519 key (one of small order, whose shared secret
   * anyone knows) is refused.
   */
  linkCiphers(role: HandshakeRole, transcript: HandshakeTranscript): LinkCiphers {
    const theirs = role === "caller" ? transcript.calleeNonce : transcript.callerNonce;
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: this.privateKey, publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, theirs]), format: "der", type: "spki" }) });
    } catch {
      throw invalid("PEER_HANDSHAKE_MALFORMED", "the peer's handshake nonce is not a usable X25519 public key");
    }
    const salt = transcriptBytes("caller", transcript);
    const key = (direction: string): Buffer => Buffer.from(hkdfSync("sha256", shared, salt, `hashfed/v1/peer-link/${direction}`, KEY_BYTES));
    const keys = { callerToCallee: key("caller-to-callee"), calleeToCaller: key("callee-to-caller") };
    const [sending, receiving] = role === "caller" ? [keys.callerToCallee, keys.calleeToCaller] : [keys.calleeToCaller, keys.callerToCallee];
    return { sealer: new FrameSealer(sending), opener: new FrameOpener(receiving), keys };
  }
}

/** The keys of a link's two directions. */
export interface LinkKeys {
  readonly callerToCallee: Buffer;
  readonly calleeToCaller: Buffer;
}

/** One end's ciphers of a link, and the link's keys (for a key log: see linkKeyLog). */
export interface LinkCiphers {
  readonly sealer: FrameSealer;
  readonly opener: FrameOpener;
  readonly keys: LinkKeys;
}

/** One direction's sending end: each message sealed under the next counter, which the frame carries. */
export class FrameSealer {
  private counter = 0n;

  constructor(private readonly key: Buffer) {}

  seal(message: Uint8Array): Buffer {
    const counter = Buffer.alloc(COUNTER_BYTES);
    counter.writeBigUInt64BE(this.counter++);
    const cipher = createCipheriv("aes-256-gcm", this.key, gcmNonce(counter), { authTagLength: TAG_BYTES });
    cipher.setAAD(counter);
    return Buffer.concat([counter, cipher.update(message), cipher.final(), cipher.getAuthTag()]);
  }
}

/**
 * One direction's receiving end. Counters must go up, not by one: the sender drops a message its
 * write budget has no room for (a best-effort transport), so gaps are normal.
 */
export class FrameOpener {
  private next = 0n;

  constructor(private readonly key: Buffer) {}

  open(frame: Uint8Array): Buffer {
    if (frame.length < COUNTER_BYTES + TAG_BYTES) throw invalid("PEER_FRAME_FORGED", "a peer frame is shorter than its counter and tag");
    const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    const counter = bytes.subarray(0, COUNTER_BYTES);
    const value = counter.readBigUInt64BE();
    if (value < this.next) throw invalid("PEER_FRAME_FORGED", `a peer frame's counter ${value} is below ${this.next}: replayed or reordered`);
    const decipher = createDecipheriv("aes-256-gcm", this.key, gcmNonce(counter), { authTagLength: TAG_BYTES });
    decipher.setAAD(counter);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let message: Buffer;
    try {
      message = Buffer.concat([decipher.update(bytes.subarray(COUNTER_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw invalid("PEER_FRAME_FORGED", "a peer frame does not open under the link's key: changed on the way, or not from the peer");
    }
    this.next = value + 1n;
    return message;
  }
}

/** The 12-byte GCM nonce of a frame: four zero bytes, then its counter. Keys are never reused across links. */
function gcmNonce(counter: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(4), counter]);
}

/** Bytes sealing adds to a message. */
export const SEALING_BYTES = COUNTER_BYTES + TAG_BYTES;
