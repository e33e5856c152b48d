import type { Writable } from "node:stream";
import type { PeerFrame } from "../gen/hashfed/v1/peer";

/**
 * Bytes written to one peer stream and not yet handed to HTTP/2, bounded: a peer that stops
 * reading costs this node at most `maxBytes` of memory. Beyond it a message is dropped, which a
 * best-effort Transport allows: the replica sends again whatever consensus still needs.
 */
export class WriteBudget {
  private pending = 0;

  constructor(private readonly maxBytes: number) {}

  /** Writes a message frame unless the budget is spent; false when it was dropped. */
  write(stream: Writable, message: Uint8Array): boolean {
    const size = message.length;
    if (this.pending > 0 && this.pending + size > this.maxBytes) return false;
    this.pending += size;
    const frame: PeerFrame = { kind: { $case: "message", value: Buffer.from(message) } };
    stream.write(frame, () => {
      this.pending -= size;
    });
    return true;
  }
}
