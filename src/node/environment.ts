import { randomFillSync } from "node:crypto";

/** The node's clock, injected so that tests and the simulator can drive time. */
export interface Clock {
  nowMs(): bigint;
}

/** The node's source of randomness (nonces and commitment salts), injected for the same reason. */
export interface Entropy {
  randomBytes(length: number): Buffer;
}

export const systemClock: Clock = { nowMs: () => BigInt(Date.now()) };

/**
 * The operating system's CSPRNG, drawn 4 KiB at a time: one call per statement for 16-byte salts
 * and nonces costs more than the rest of building the statement.
 */
export class SystemEntropy implements Entropy {
  private readonly pool = Buffer.alloc(4096);
  private used = this.pool.length;

  randomBytes(length: number): Buffer {
    if (length > this.pool.length) return randomFillSync(Buffer.alloc(length));
    if (this.used + length > this.pool.length) {
      randomFillSync(this.pool);
      this.used = 0;
    }
    const bytes = Buffer.from(this.pool.subarray(this.used, this.used + length));
    this.used += length;
    return bytes;
  }
}

// Zero-delay callbacks waiting for setImmediate, by the negative ids their handles carry.
const immediates = new Map<number, NodeJS.Immediate>();
let lastImmediateId = 0;

/**
 * The replica's Timers on the process clock and setTimeout. A zero delay runs on the event loop's
 * next turn (setImmediate) rather than after setTimeout's 1 ms minimum: the replica uses it to
 * gather the statements admitted in one turn into one gossip message, and the millisecond was
 * spent on the path of every statement to the proposer.
 */
export const systemTimers = {
  now: (): number => Date.now(),
  setTimeout: (delayMs: number, callback: () => void): { id: number } => {
    if (delayMs <= 0) {
      const id = --lastImmediateId;
      immediates.set(
        id,
        setImmediate(() => {
          immediates.delete(id);
          callback();
        }),
      );
      return { id };
    }
    const timer = setTimeout(callback, delayMs);
    return { id: Number(timer[Symbol.toPrimitive]()) };
  },
  clearTimeout: (handle: { id: number }): void => {
    if (handle.id >= 0) return clearTimeout(handle.id);
    clearImmediate(immediates.get(handle.id));
    immediates.delete(handle.id);
  },
};
