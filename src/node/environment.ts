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

/** The replica's Timers on the process clock and setTimeout. */
export const systemTimers = {
  now: (): number => Date.now(),
  setTimeout: (delayMs: number, callback: () => void): { id: number } => {
    const timer = setTimeout(callback, delayMs);
    return { id: Number(timer[Symbol.toPrimitive]()) };
  },
  clearTimeout: (handle: { id: number }): void => clearTimeout(handle.id),
};
