import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import { HashfedError, invalid } from "../errors";
import type { Signer } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import { describe } from "../federation/fields";
import type { PeerFrame, PeerServer } from "../gen/hashfed/v1/peer";
import type { Entropy } from "../node/environment";
import { PEER_NONCE_BYTES, signHandshake, verifyHandshake } from "./handshake";
import { EphemeralKey, type LinkCiphers } from "./linkCipher";
import { type LinkKeyLogFile, linkKeyLogLine } from "./linkKeyLog";
import type { PeerLimits } from "./peerLimits";
import { WriteBudget } from "./writeBudget";
import { remoteAddress } from "../node/grpcHandlers";
import { CountsByKey } from "../table";
import { RefusalLog } from "./refusalLog";

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
  readonly keyLog?: Pick<LinkKeyLogFile, "append">;
  /** A member's node proved its key on a stream from this network address. */
  readonly memberProvedAt?: (address: string) => void;
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
 * Streams from one network address not authenticated, at once: each may cost this node a
 * signature and holds its state until it is authenticated or over, and anyone who can
 * reach the port can open them. Per address, so that one caller cannot fill a node-wide cap and
 * keep members out; enough for a federation of a dozen nodes on one machine reconnecting at once.
 * A refused stream counts until it is over, not until it is refused: gRPC ends a stream only once
 * what it wrote has been read, and a caller that never reads keeps it (and its memory) forever.
 */
const HANDSHAKES_PENDING_PER_ADDRESS_MAX = 16;
/**
 * Authenticated streams of one member not yet over: the one in use and those it replaced, which
 * end once their caller reads what was written to them (up to the write budget) or goes away. A
 * member that reconnects without reading would otherwise leave a full write budget behind each time.
 */
const STREAMS_PER_MEMBER_MAX = 4;
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
  const counts: StreamCounts = { handshakes: new CountsByKey(), memberStreams: new CountsByKey() };
  const refusals = new RefusalLog(options.log, options.now, "peer connections");
  return {
    connect: (call) => {
      new InboundConnection(options, call, counts, refusals);
    },
  };
}

/** Streams not yet over, by caller address while unauthenticated and by member after. */
interface StreamCounts {
  readonly handshakes: CountsByKey;
  readonly memberStreams: CountsByKey;
}

class InboundConnection implements InboundLink {
  private peer: string | undefined;
  private transcript: Parameters<typeof verifyHandshake>[2] | undefined;
  /** The link's ciphers, from the caller's hello on (see linkCipher). */
  private link: LinkCiphers | undefined;
  private readonly budget: WriteBudget;
  private readonly handshakeTimer: NodeJS.Timeout;
  private ended = false;
  /** What this stream counts among until it is over: its address's handshakes, then its member's streams. */
  private counted: { readonly counts: CountsByKey; readonly key: string } | undefined;
  /** The caller's network address, without its port: "ipv4:127.0.0.1:54321" is 127.0.0.1. */
  private readonly address: string;

  constructor(
    private readonly options: InboundOptions,
    private readonly call: ServerDuplexStream<PeerFrame, PeerFrame>,
    private readonly counts: StreamCounts,
    private readonly refusals: RefusalLog,
  ) {
    this.budget = new WriteBudget(WRITE_BUDGET_MESSAGES * options.federation.parameters.messageBytesMax);
    this.address = remoteAddress(call);
    this.handshakeTimer = setTimeout(() => this.refuse(status.DEADLINE_EXCEEDED, "no complete handshake in time"), HANDSHAKE_TIMEOUT_MS);
    // Refused before anything is written to it, a stream is over at once.
    if (counts.handshakes.of(this.address) >= HANDSHAKES_PENDING_PER_ADDRESS_MAX) {
      this.refuse(status.UNAVAILABLE, `${HANDSHAKES_PENDING_PER_ADDRESS_MAX} handshakes from ${this.address} are under way; try again in a few seconds`);
      return;
    }
    this.count(counts.handshakes, this.address);
    call.on("data", (frame: PeerFrame) => this.onFrame(frame));
    call.on("error", () => this.end());
    // A caller that died (killed, or found dead by keepalive) ends the call this way, not with an end:
    // its link had stayed in use, and messages to that member went into a dead stream.
    call.on("cancelled", () => {
      this.end();
      this.uncount();
    });
    call.on("end", () => {
      this.end();
      call.end();
    });
    // Everything written was taken and the status sent: the stream is over.
    call.on("finish", () => this.uncount());
  }

  send(message: Uint8Array): boolean {
    if (this.ended || this.link === undefined) return false;
    this.budget.write(this.call, this.link.sealer.seal(message));
    return true;
  }

  close(): void {
    this.refuse(status.CANCELLED, "replaced by a newer stream from the same member");
  }

  private end(): void {
    clearTimeout(this.handshakeTimer);
    if (this.ended) return;
    this.ended = true;
    // Nothing more is read from it; what it holds is what it wrote, until that is taken or the caller goes.
    this.call.pause();
    this.transcript = undefined;
    this.link = undefined;
    if (this.peer !== undefined) this.options.closed(this.peer, this);
  }

  private onFrame(frame: PeerFrame): void {
    if (this.ended) return;
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
    // All checked before signing: a node signs handshakes for members only, never for whoever asks,
    // and signs no more than a transcript's bytes.
    if (!federation.id.equals(hello.federationId)) {
      const [theirs, ours] = [hello.federationId, federation.id].map((id) => `${Buffer.from(id).toString("hex").slice(0, 16)}…`);
      throw new HashfedError(
        "unauthenticated",
        "PEER_OTHER_FEDERATION",
        `${describe(hello.member)} is in federation ${theirs}, this node in ${ours}: their federation files differ (compare them with hashfed federation show)`,
      );
    }
    if (hello.nonce.length !== PEER_NONCE_BYTES) throw invalid("PEER_HANDSHAKE_MALFORMED", `a handshake nonce is ${PEER_NONCE_BYTES} bytes, got ${hello.nonce.length}`);
    if (memberByName(federation, hello.member) === undefined) {
      throw new HashfedError("unauthenticated", "PEER_NOT_A_MEMBER", `${describe(hello.member)} is not a member of this federation`);
    }
    const ephemeral = EphemeralKey.generate(entropy);
    const transcript = {
      federationId: Buffer.from(hello.federationId),
      caller: hello.member,
      callee: signer.name,
      callerNonce: Buffer.from(hello.nonce),
      calleeNonce: ephemeral.publicKey,
    };
    this.link = ephemeral.linkCiphers("callee", transcript);
    this.transcript = transcript;
    const signature = signHandshake(signer, "callee", transcript);
    this.call.write({ kind: { $case: "hello", value: { federationId: federation.id, member: signer.name, nonce: transcript.calleeNonce, signature } } });
  }

  private onProof(signature: Buffer): void {
    const member = verifyHandshake(this.options.federation, "caller", this.transcript!, signature);
    clearTimeout(this.handshakeTimer);
    if (this.counts.memberStreams.of(member.name) >= STREAMS_PER_MEMBER_MAX) {
      throw new HashfedError("unavailable", "PEER_STREAMS_BUSY", `${STREAMS_PER_MEMBER_MAX} streams of ${member.name} to this node are not over yet; try again once they are`);
    }
    this.uncount();
    this.count(this.counts.memberStreams, member.name);
    this.peer = member.name;
    // Only now: a caller that names a member without its key must not make the node write.
    this.options.keyLog?.append(linkKeyLogLine(this.transcript!.callerNonce, this.link!.keys));
    this.options.opened(member.name, this);
    this.options.memberProvedAt?.(this.address);
  }

  /** A message within the member's rate limits; one that does not open under the link's key ends the stream. */
  private onMessage(sealed: Buffer): void {
    if (this.options.limitsOf(this.peer!).admits(sealed.length, this.options.now())) this.options.deliver(this.peer!, this.link!.opener.open(sealed));
  }

  private count(counts: CountsByKey, key: string): void {
    counts.add(key);
    this.counted = { counts, key };
  }

  private uncount(): void {
    if (this.counted === undefined) return;
    this.counted.counts.removeOne(this.counted.key);
    this.counted = undefined;
  }

  private refuse(code: status, details: string): void {
    this.end();
    this.refusals.refused(`refused a peer connection${this.peer === undefined ? "" : ` from ${this.peer}`}: ${details}`);
    this.call.emit("error", { code, details });
  }
}
