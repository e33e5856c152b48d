import type { Signer } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import type { PeerServer } from "../gen/hashfed/v1/peer";
import type { Entropy } from "../node/environment";
import type { Transport } from "../replica/environment";
import { type InboundLink, inboundPeers } from "./inboundPeers";
import { PeerLimits, type PeerRates } from "./peerLimits";
import { OutboundPeer } from "./outboundPeer";
import type { LinkKeyLogFile } from "./linkKeyLog";

export interface PeerNetworkOptions {
  readonly federation: Federation;
  readonly signer: Signer;
  readonly entropy: Entropy;
  readonly log: (line: string) => void;
  /** Where each link's keys go (see linkKeyLog), if anywhere; closed with the network. */
  readonly keyLog?: LinkKeyLogFile;
  /**
   * A member's node proved its key at this network address, on a stream it opened from there or on
   * this node's stream to it there (the connection gate keeps its places).
   */
  readonly memberProvedAt?: (address: string) => void;
}

/**
 * The replica's Transport on the Peer gRPC service: one authenticated outbound stream to each
 * other member, opened on first use, and the inbound side to add to the node's public server.
 * Messages flow both ways on a stream. A message to a member goes on the stream that member
 * opened, if it is up: there the receiver is the gRPC client, whose receive window this code sets
 * large, where a server's stays at HTTP/2's 64 KiB and a whole batch would wait on
 * window updates from a busy receiver. Messages received go to `deliver`, attached once the
 * replica exists.
 */
export class PeerNetwork implements Transport {
  private readonly outbound = new Map<string, OutboundPeer>();
  /** The authenticated streams other members opened to this node, by member. */
  private readonly inbound = new Map<string, InboundLink>();
  /**
   * The rate limits of each member, over every stream it sends on: its own streams to this node and
   * this node's stream to it. Per stream, a member could multiply its rate by opening more.
   */
  private readonly limits = new Map<string, PeerLimits>();
  private deliver: (from: string, message: Uint8Array) => void = () => {};
  readonly service: PeerServer;
  private readonly messageBytesMax: number;
  private readonly rates: PeerRates;
  private closed = false;

  constructor(private readonly options: PeerNetworkOptions) {
    const { federation } = options;
    const messageBytesMax = federation.parameters.messageBytesMax;
    this.messageBytesMax = messageBytesMax;
    // Generous for consensus and gossip between members, small enough that one member cannot
    // flood another: at most about 64 maximum-size messages a second.
    this.rates = { framesPerSecondMax: 20_000, bytesPerSecondMax: 64 * messageBytesMax };
    this.service = inboundPeers({
      ...options,
      now: monotonicNow,
      limitsOf: (member) => this.limitsOf(member),
      deliver: (from, message) => this.deliver(from, message),
      opened: (peer, link) => {
        // A member's newer stream replaces its older one, which is closed: a member has one stream to this node.
        const older = this.inbound.get(peer);
        this.inbound.set(peer, link);
        older?.close();
      },
      closed: (peer, link) => {
        if (this.inbound.get(peer) === link) this.inbound.delete(peer);
      },
    });
  }

  /** Where inbound messages go. */
  attach(deliver: (from: string, message: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  send(to: string, message: Uint8Array): void {
    if (this.closed) return; // a message sent while the node stops must not open a connection again
    const peer = this.outboundTo(to);
    if (this.inbound.get(to)?.send(message) !== true) peer?.send(message);
  }

  /**
   * The stream this node opens to `to`, opened on first use. Opened even when messages go on the
   * inbound stream: it is how `to` sends to this node.
   */
  private outboundTo(to: string): OutboundPeer | undefined {
    let peer = this.outbound.get(to);
    if (peer === undefined) {
      const member = memberByName(this.options.federation, to);
      if (member === undefined) return undefined;
      const options = { ...this.options, messageBytesMax: this.messageBytesMax, now: monotonicNow, limits: this.limitsOf(to), deliver: (from: string, message: Uint8Array) => this.deliver(from, message) };
      peer = new OutboundPeer(options, member);
      this.outbound.set(to, peer);
    }
    return peer;
  }

  /** The other members with an authenticated stream to or from this node, in file order. */
  connectedMembers(): string[] {
    return this.options.federation.members
      .map((member) => member.name)
      .filter((name) => this.inbound.has(name) || this.outbound.get(name)?.connected === true);
  }

  private limitsOf(member: string): PeerLimits {
    let limits = this.limits.get(member);
    if (limits === undefined) this.limits.set(member, (limits = new PeerLimits(this.rates, monotonicNow())));
    return limits;
  }

  close(): void {
    this.closed = true;
    for (const peer of this.outbound.values()) peer.close();
    this.outbound.clear();
    this.options.keyLog?.close();
  }
}

/** The rate limits' clock: monotonic, since a wall clock set back would silence every peer for as long. */
function monotonicNow(): number {
  return performance.now();
}
