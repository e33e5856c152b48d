import { TokenBucket } from "./tokenBucket";

/** What one peer may deliver per second, in frames and in bytes: bounds the work a member can make a node do. */
export interface PeerRates {
  readonly framesPerSecondMax: number;
  readonly bytesPerSecondMax: number;
}

/** The limits of one peer link. Over them a message is dropped, not queued: the replica recovers lost messages itself. */
export class PeerLimits {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(rates: PeerRates, nowMs: number) {
    this.frames = new TokenBucket(rates.framesPerSecondMax, rates.framesPerSecondMax, nowMs);
    this.bytes = new TokenBucket(rates.bytesPerSecondMax, rates.bytesPerSecondMax, nowMs);
  }

  admits(messageBytes: number, nowMs: number): boolean {
    return this.frames.take(1, nowMs) && this.bytes.take(messageBytes, nowMs);
  }
}
