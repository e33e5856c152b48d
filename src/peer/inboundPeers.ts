import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import type { Signer } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import type { PeerFrame, PeerServer } from "../gen/hashfed/v1/peer";
import type { Entropy } from "../node/environment";
import { PEER_NONCE_BYTES, signHandshake, verifyHandshake } from "./handshake";
import type { PeerLimits } from "./peerLimits";
import { WriteBudget } from "./writeBudget";
import { callerAddress } from "../node/grpcHandlers";

export interface InboundOptions {
  readonly federation: Federation;
  readonly signer: Signer;
  readonly entropy: Entropy;
  readonly now: () => number;
  /** The rate limits of a member, shared by all its streams. */
  readonly limitsOf: (member: string) => PeerLimits;
  readonly deliver: (from: string, message: Uint8Array) => void;
  /** An authenticated member's stream is open (`opened`) or gone (`closed`): messages to it may go on it. */
  readonly opened: (peer: string, link: InboundLink) => void;
  readonly closed: (peer: string, link: InboundLink) => void;
  readonly log: (line: string) => void;
}

/** The callee's end of an authenticated stream, as a way to send to the member that opened it. */
export interface InboundLink {
  /** False if the stream has ended: the message was not sent. */
  send(message: Uint8Array): boolean;
  /** Ends the stream: the member opened a newer one. */
  close(): void;
}

const HANDSHAKE_TIMEOUT_MS = 5000;
/**
 * Streams from one network address past their hello and short of their proof, at once: each cost
 * this node a signature and holds its state until it completes or times out, and anyone who can
 * reach the port can open them. Per address, so that one caller cannot fill a node-wide cap and
 * keep members out; enough for a federation of a dozen nodes on one machine reconnecting at once.
 */
const HANDSHAKES_PENDING_PER_ADDRESS_MAX = 16;
/** Bytes a stream may hold unsent, in maximum-size messages (see WriteBudget). */
const WRITE_BUDGET_MESSAGES = 4;

const REFUSAL_STATUS: Partial<Record<HashfedError["kind"], status>> = { unauthenticated: status.UNAUTHENTICATED, unavailable: status.UNAVAILABLE };

/**
 * The callee side of the Peer service: authenticates each incoming stream with the caller's member
 * key (hello, then the callee's signed hello, then the caller's proof), then delivers its messages,
 * within per-peer rate limits, and offers the stream for messages to that member (see PeerNetwork).
 * A stream that fails the handshake is refused with UNAUTHENTICATED.
 */
export function inboundPeers(options: InboundOptions): PeerServer {
  const handshakes = new Map<string, number>();
  return {
    connect: (call) => {
      new InboundConnection(options, call, handshakes);
    },
  };
}

class InboundConnection implements InboundLink {
  private peer: string | undefined;
  private transcript: Parameters<typeof verifyHandshake>[2] | undefined;
  private readonly budget: WriteBudget;
  private readonly handshakeTimer: NodeJS.Timeout;
  private ended = false;
  /** Whether this stream counts among the pending handshakes. */
  private handshaking = false;
  /** The caller's network address, without its port: "ipv4:127.0.0.1:54321" is 127.0.0.1. */
  private readonly address: string;

  constructor(
    private readonly options: InboundOptions,
    private readonly call: ServerDuplexStream<PeerFrame, PeerFrame>,
    private readonly handshakes: Map<string, number>,
  ) {
    this.budget = new WriteBudget(WRITE_BUDGET_MESSAGES * options.federation.parameters.messageBytesMax);
    this.address = callerAddress(call);
    this.handshakeTimer = setTimeout(() => this.refuse(status.DEADLINE_EXCEEDED, "no complete handshake in time"), HANDSHAKE_TIMEOUT_MS);
    call.on("data", (frame: PeerFrame) => this.onFrame(frame));
    call.on("error", () => this.end());
    // A caller that died (killed, or found dead by keepalive) ends the call this way, not with an end:
    // its link had stayed in use, and messages to that member went into a dead stream.
    call.on("cancelled", () => this.end());
    call.on("end", () => {
      this.end();
      call.end();
    });
  }

  send(message: Uint8Array): boolean {
    if (this.ended) return false;
    this.budget.write(this.call, message);
    return true;
  }

  close(): void {
    this.refuse(status.CANCELLED, "replaced by a newer stream from the same member");
  }

  private end(): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeDone();
    if (this.ended) return;
    this.ended = true;
    if (this.peer !== undefined) this.options.closed(this.peer, this);
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
      this.refuse(REFUSAL_STATUS[error.kind] ?? status.INVALID_ARGUMENT, error.message);
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
    const pending = this.handshakes.get(this.address) ?? 0;
    if (pending >= HANDSHAKES_PENDING_PER_ADDRESS_MAX) {
      throw new HashfedError("unavailable", "PEER_HANDSHAKES_BUSY", `${HANDSHAKES_PENDING_PER_ADDRESS_MAX} handshakes from ${this.address} are under way; try again in a few seconds`);
    }
    this.handshakes.set(this.address, pending + 1);
    this.handshaking = true;
    const signature = signHandshake(signer, "callee", this.transcript);
    this.call.write({ kind: { $case: "hello", value: { federationId: federation.id, member: signer.name, nonce: this.transcript.calleeNonce, signature } } });
  }

  private onProof(signature: Buffer): void {
    const member = verifyHandshake(this.options.federation, "caller", this.transcript!, signature);
    clearTimeout(this.handshakeTimer);
    this.handshakeDone();
    this.peer = member.name;
    this.options.opened(member.name, this);
  }

  private onMessage(message: Buffer): void {
    if (this.options.limitsOf(this.peer!).admits(message.length, this.options.now())) this.options.deliver(this.peer!, message);
  }

  private handshakeDone(): void {
    if (!this.handshaking) return;
    this.handshaking = false;
    const pending = this.handshakes.get(this.address)! - 1;
    if (pending === 0) this.handshakes.delete(this.address);
    else this.handshakes.set(this.address, pending);
  }

  private refuse(code: status, details: string): void {
    this.end();
    this.options.log(`refused a peer connection${this.peer === undefined ? "" : ` from ${this.peer}`}: ${details}`);
    this.call.emit("error", { code, details });
  }
}
