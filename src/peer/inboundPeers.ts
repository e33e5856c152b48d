import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import type { Signer } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import type { PeerFrame, PeerServer } from "../gen/hashfed/v1/peer";
import type { Entropy } from "../node/environment";
import { PEER_NONCE_BYTES, signHandshake, verifyHandshake } from "./handshake";
import { TokenBucket } from "./tokenBucket";

export interface InboundOptions {
  readonly federation: Federation;
  readonly signer: Signer;
  readonly entropy: Entropy;
  readonly now: () => number;
  /** Frames per second one peer may send, and bytes per second. */
  readonly framesPerSecondMax: number;
  readonly bytesPerSecondMax: number;
  readonly deliver: (from: string, message: Uint8Array) => void;
  readonly log: (line: string) => void;
}

const HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * The callee side of the Peer service: authenticates each incoming stream with the caller's member
 * key (hello, then the callee's signed hello, then the caller's proof), then delivers its messages,
 * within per-peer rate limits. A stream that fails the handshake is refused with UNAUTHENTICATED.
 */
export function inboundPeers(options: InboundOptions): PeerServer {
  return {
    connect: (call) => {
      new InboundConnection(options, call);
    },
  };
}

class InboundConnection {
  private peer: string | undefined;
  private transcript: Parameters<typeof verifyHandshake>[2] | undefined;
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    private readonly options: InboundOptions,
    private readonly call: ServerDuplexStream<PeerFrame, PeerFrame>,
  ) {
    const now = options.now();
    this.frames = new TokenBucket(options.framesPerSecondMax, options.framesPerSecondMax, now);
    this.bytes = new TokenBucket(options.bytesPerSecondMax, options.bytesPerSecondMax, now);
    this.handshakeTimer = setTimeout(() => this.refuse(status.DEADLINE_EXCEEDED, "no complete handshake in time"), HANDSHAKE_TIMEOUT_MS);
    call.on("data", (frame: PeerFrame) => this.onFrame(frame));
    call.on("error", () => clearTimeout(this.handshakeTimer));
    call.on("end", () => {
      clearTimeout(this.handshakeTimer);
      call.end();
    });
  }

  private onFrame(frame: PeerFrame): void {
    try {
      const kind = frame.kind;
      if (kind?.$case === "hello" && this.transcript === undefined) return this.onHello(kind.value);
      if (kind?.$case === "proof" && this.transcript !== undefined && this.peer === undefined) return this.onProof(kind.value.signature);
      if (kind?.$case === "message" && this.peer !== undefined) return this.onMessage(kind.value);
      this.refuse(status.INVALID_ARGUMENT, "frames out of order: hello, then proof, then messages");
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      this.refuse(error.kind === "unauthenticated" ? status.UNAUTHENTICATED : status.INVALID_ARGUMENT, error.message);
    }
  }

  private onHello(hello: { federationId: Buffer; member: string; nonce: Buffer }): void {
    const { federation, signer, entropy } = this.options;
    this.transcript = {
      federationId: Buffer.from(hello.federationId),
      caller: hello.member,
      callee: signer.name,
      callerNonce: Buffer.from(hello.nonce),
      calleeNonce: entropy.randomBytes(PEER_NONCE_BYTES),
    };
    if (!this.transcript.federationId.equals(federation.id)) throw new HashfedError("unauthenticated", "PEER_OTHER_FEDERATION", "the caller is in another federation");
    // Checked before signing: a node signs handshakes for members only, never for whoever asks.
    if (memberByName(federation, hello.member) === undefined) {
      throw new HashfedError("unauthenticated", "PEER_NOT_A_MEMBER", `${JSON.stringify(hello.member)} is not a member of this federation`);
    }
    const signature = signHandshake(signer, "callee", this.transcript);
    this.call.write({ kind: { $case: "hello", value: { federationId: federation.id, member: signer.name, nonce: this.transcript.calleeNonce, signature } } });
  }

  private onProof(signature: Buffer): void {
    const member = verifyHandshake(this.options.federation, "caller", this.transcript!, signature);
    clearTimeout(this.handshakeTimer);
    this.peer = member.name;
  }

  private onMessage(message: Buffer): void {
    const now = this.options.now();
    // Over the limit, a message is dropped, not queued: the replica recovers lost messages itself.
    if (!this.frames.take(1, now) || !this.bytes.take(message.length, now)) return;
    this.options.deliver(this.peer!, message);
  }

  private refuse(code: status, details: string): void {
    clearTimeout(this.handshakeTimer);
    this.options.log(`refused a peer connection${this.peer === undefined ? "" : ` from ${this.peer}`}: ${details}`);
    this.call.emit("error", { code, details });
  }
}
