/**
 * What a replica needs from the world, injected so that the same replica runs on gRPC and real
 * timers in a node, and on a simulated network in virtual time under test.
 */
export type TimerHandle = { readonly id: number };

export interface Timers {
  /** Milliseconds on the replica's clock (virtual time under simulation). */
  now(): number;
  setTimeout(delayMs: number, callback: () => void): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Best-effort delivery of encoded PeerMessages: a message may be lost, delayed, duplicated or reordered. */
export interface Transport {
  send(to: string, message: Uint8Array): void;
}
