import { type ClientDuplexStream, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import type { Signer } from "../crypto/signer";
import type { Federation, Member } from "../federation";
import { describe } from "../federation/fields";
import { PeerClient, type PeerFrame } from "../gen/hashfed/v1/peer";
import type { Entropy } from "../node/environment";
import { remoteAddress } from "../node/grpcHandlers";
import { type HandshakeTranscript, signHandshake, verifyHandshake } from "./handshake";
import { EphemeralKey, type FrameOpener, type LinkCiphers } from "./linkCipher";
import { type LinkKeyLogFile, linkKeyLogLine } from "./linkKeyLog";
import type { PeerLimits } from "./peerLimits";
import { WriteBudget } from "./writeBudget";

export interface OutboundOptions {
  readonly federation: Federation;
  readonly signer: Signer;
  readonly entropy: Entropy;
  readonly messageBytesMax: number;
  readonly now: () => number;
  /** The member's rate limits, shared with the streams it opens to this node. */
  readonly limits: PeerLimits;
  /** Messages the callee sends back on this stream, once it has proved who it is. */
  readonly deliver: (from: string, message: Uint8Array) => void;
  readonly log: (line: string) => void;
  readonly keyLog?: Pick<LinkKeyLogFile, "append">;
  /** The member's node proved its key at this network address, answering this node's stream. */
  readonly memberProvedAt?: (address: string) => void;
}

/** Messages held while a connection is (re)opening; beyond this the oldest are dropped. */
const QUEUED_MESSAGES_MAX = 1024;
const RETRY_MS_MIN = 50;
const RETRY_MS_MAX = 2000;
/** The stream's receive window, and the bytes it may hold unsent, in maximum-size messages. */
const RECEIVE_WINDOW_MESSAGES = 4;
const WRITE_BUDGET_MESSAGES = 4;

/**
 * The caller side of one peer link: keeps a stream open to one member, authenticates it (the
 * callee must prove it holds that member's key), sends messages on it, delivers the messages the
 * callee sends back, and reconnects with backoff when it breaks. Delivery is best effort, as the
 * replica's Transport promises.
 */
export class OutboundPeer {
  private readonly client: PeerClient;
  private stream: ClientDuplexStream<PeerFrame, PeerFrame> | undefined;
  /** Set once the callee proved its key: the open stream's ciphers, and messages may go. */
  private link: LinkCiphers | undefined;
  /** The callee took the proof: a message came on this stream after it. */
  private confirmed = false;
  /** The peer's last refusal of this node's link, said once until another comes or a link works. */
  private lastRefusal: string | undefined;
  private queued: Uint8Array[] = [];
  private retryMs = RETRY_MS_MIN;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Of the current stream: a new one starts with a full budget. */
  private budget: WriteBudget;

  constructor(
    private readonly options: OutboundOptions,
    private readonly member: Member,
  ) {
    this.client = new PeerClient(member.address, credentials.createInsecure(), {
      "grpc.max_send_message_length": options.messageBytesMax,
      "grpc.max_receive_message_length": options.messageBytesMax,
      // A peer that is down comes back within seconds (a restart); gRPC's default first retry after
      // a second would leave consensus waiting on it for longer than a round.
      "grpc.initial_reconnect_backoff_ms": RETRY_MS_MIN,
      "grpc.max_reconnect_backoff_ms": RETRY_MS_MAX,
      // The callee sends most messages to this node on this stream (PeerNetwork): a window of several
      // maximum-size messages lets a whole batch (synced, or proposed and asked for) arrive without waiting on window updates.
      "grpc-node.flow_control_window": RECEIVE_WINDOW_MESSAGES * options.messageBytesMax,
      // As the servers do: a peer that died silently (power, network) is found within about 80 s,
      // and its messages go on the stream it opens when it is back, not into a dead one.
      "grpc.keepalive_time_ms": 60_000,
      "grpc.keepalive_timeout_ms": 20_000,
    });
    this.budget = new WriteBudget(WRITE_BUDGET_MESSAGES * options.messageBytesMax);
    this.open();
  }

  /** Whether both ends proved their keys on the open stream (the callee has sent since it took our proof). */
  get connected(): boolean {
    return this.confirmed;
  }

  send(message: Uint8Array): void {
    if (this.closed) return;
    if (this.link !== undefined && this.stream !== undefined) {
      this.budget.write(this.stream, this.link.sealer.seal(message));
      return;
    }
    this.queued.push(message);
    if (this.queued.length > QUEUED_MESSAGES_MAX) this.queued.shift();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.client.close();
  }

  private open(): void {
    const { federation, signer, entropy } = this.options;
    const ephemeral = EphemeralKey.generate(entropy);
    const transcript: HandshakeTranscript = {
      federationId: federation.id,
      caller: signer.name,
      callee: this.member.name,
      callerNonce: ephemeral.publicKey,
      calleeNonce: Buffer.alloc(0),
    };
    const stream = this.client.connect();
    this.stream = stream;
    this.budget = new WriteBudget(WRITE_BUDGET_MESSAGES * this.options.messageBytesMax);
    stream.on("data", (frame: PeerFrame) => this.onFrame(stream, transcript, ephemeral, frame));
    stream.on("error", (error: ServiceError) => {
      if (stream === this.stream) this.sayRefusal(error);
      this.broken(stream);
    });
    stream.on("end", () => this.broken(stream));
    stream.write({ kind: { $case: "hello", value: { federationId: federation.id, member: signer.name, nonce: transcript.callerNonce, signature: Buffer.alloc(0) } } });
  }

  private onFrame(stream: ClientDuplexStream<PeerFrame, PeerFrame>, transcript: HandshakeTranscript, ephemeral: EphemeralKey, frame: PeerFrame): void {
    if (stream !== this.stream) return;
    try {
      if (this.link !== undefined && frame.kind?.$case === "message") return this.onMessage(this.link.opener, frame.kind.value);
      if (this.link !== undefined || frame.kind?.$case !== "hello") return;
      const hello = frame.kind.value;
      const full = { ...transcript, calleeNonce: Buffer.from(hello.nonce) };
      if (hello.member !== this.member.name) throw new HashfedError("unauthenticated", "PEER_WRONG_MEMBER", `${this.member.address} answered as ${describe(hello.member)}, not ${this.member.name}`);
      verifyHandshake(this.options.federation, "callee", full, hello.signature);
      // Its node connects to this one from there too, in most networks: after this node restarts,
      // strangers filling its port must not keep the member out until the member gets in once.
      this.options.memberProvedAt?.(remoteAddress(stream));
      this.link = ephemeral.linkCiphers("caller", full);
      this.options.keyLog?.append(linkKeyLogLine(full.callerNonce, this.link.keys));
      stream.write({ kind: { $case: "proof", value: { signature: signHandshake(this.options.signer, "caller", full) } } });
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      this.options.log(`peer ${this.member.name}: ${error.message}`);
      stream.cancel();
      // At once: messages sent meanwhile wait for the next stream instead of going into this one.
      this.broken(stream);
      return;
    }
    const queued = this.queued;
    this.queued = [];
    for (const message of queued) this.send(message);
  }

  /** A message from the callee, within its rate limits; one that does not open under the link's key ends the stream. */
  private onMessage(opener: FrameOpener, sealed: Buffer): void {
    if (!this.options.limits.admits(sealed.length, this.options.now())) return;
    const message = opener.open(sealed);
    if (!this.confirmed) this.confirm();
    this.options.deliver(this.member.name, message);
  }

  /**
   * The link works: said once, and the reconnect backoff starts over. Not at the proof: a callee
   * that refuses it would have made a "connected" and a "lost" line, and a retry at the shortest
   * backoff, for every attempt.
   */
  private confirm(): void {
    this.confirmed = true;
    this.lastRefusal = undefined;
    this.retryMs = RETRY_MS_MIN;
    this.options.log(`peer ${this.member.name}: connected`);
  }

  /**
   * What the peer said when it refused the link (another federation file, a key it does not know):
   * the peer's operator read it in the peer's log, and this node's operator, who may be the one to
   * act, read only "link lost" or nothing. Network failures, this node's own cancels and a stopping
   * peer's (gRPC's "Call cancelled": the peer's own cancels carry its reason) are not said.
   */
  private sayRefusal(error: ServiceError): void {
    const refused =
      [status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.INVALID_ARGUMENT, status.CANCELLED].includes(error.code) && !/^(Cancelled on client|Call cancelled$)/.test(error.details);
    if (!refused || this.closed || error.details === this.lastRefusal) return;
    this.lastRefusal = error.details;
    this.options.log(`peer ${this.member.name} refused this node's link: ${error.details}`);
  }

  private broken(stream: ClientDuplexStream<PeerFrame, PeerFrame>): void {
    if (stream !== this.stream) return;
    this.stream = undefined;
    // Said once when a link that worked breaks, not at each failed retry while the peer is down.
    if (this.confirmed && !this.closed) this.options.log(`peer ${this.member.name}: link lost; reconnecting`);
    this.link = undefined;
    this.confirmed = false;
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(RETRY_MS_MAX, this.retryMs * 2);
  }
}
