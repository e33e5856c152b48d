import type { Signer } from "../crypto/signer";
import { type Federation, memberByName } from "../federation";
import type { PeerServer } from "../gen/hashfed/v1/peer";
import type { Entropy } from "../node/environment";
import type { Transport } from "../replica/environment";
import { inboundPeers } from "./inboundPeers";
import { OutboundPeer } from "./outboundPeer";

export interface PeerNetworkOptions {
  readonly federation: Federation;
  readonly signer: Signer;
  readonly entropy: Entropy;
  readonly log: (line: string) => void;
}

/**
 * The replica's Transport on the Peer gRPC service: one authenticated outbound stream to each
 * other member, opened on first use, and the inbound side to add to the node's public server.
 * Inbound messages go to `deliver`, attached once the replica exists.
 */
export class PeerNetwork implements Transport {
  private readonly outbound = new Map<string, OutboundPeer>();
  private deliver: (from: string, message: Uint8Array) => void = () => {};
  readonly service: PeerServer;
  private readonly messageBytesMax: number;
  private closed = false;

  constructor(private readonly options: PeerNetworkOptions) {
    const { federation } = options;
    const messageBytesMax = federation.parameters.messageBytesMax;
    this.messageBytesMax = messageBytesMax;
    this.service = inboundPeers({
      ...options,
      now: () => Date.now(),
      // Generous for consensus and gossip between members, small enough that one member cannot
      // flood another: at most about 64 maximum-size messages a second.
      framesPerSecondMax: 20_000,
      bytesPerSecondMax: 64 * messageBytesMax,
      deliver: (from, message) => this.deliver(from, message),
    });
  }

  /** Where inbound messages go. */
  attach(deliver: (from: string, message: Uint8Array) => void): void {
    this.deliver = deliver;
  }

  send(to: string, message: Uint8Array): void {
    if (this.closed) return; // a message sent while the node stops must not open a connection again
    let peer = this.outbound.get(to);
    if (peer === undefined) {
      const member = memberByName(this.options.federation, to);
      if (member === undefined) return;
      peer = new OutboundPeer({ ...this.options, messageBytesMax: this.messageBytesMax }, member);
      this.outbound.set(to, peer);
    }
    peer.send(message);
  }

  close(): void {
    this.closed = true;
    for (const peer of this.outbound.values()) peer.close();
    this.outbound.clear();
  }
}
