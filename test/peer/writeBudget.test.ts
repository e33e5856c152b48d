import { Writable } from "node:stream";
import { WriteBudget } from "../../src/peer/writeBudget";

/** A stream that takes writes but flushes them only when told: a peer that stopped reading. */
class StalledStream extends Writable {
  private readonly held: (() => void)[] = [];

  constructor() {
    super({ objectMode: true, highWaterMark: 1 });
  }

  override _write(_frame: unknown, _encoding: BufferEncoding, done: () => void): void {
    this.held.push(done);
  }

  flushOne(): void {
    this.held.shift()?.();
  }
}

describe("WriteBudget", () => {
  it("drops messages once the unsent bytes would pass the budget, and takes them again as the stream drains", async () => {
    const stream = new StalledStream();
    const budget = new WriteBudget(250);
    const message = Buffer.alloc(100);
    expect([1, 2, 3].map(() => budget.write(stream, message))).toEqual([true, true, false]);
    stream.flushOne();
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.write(stream, message)).toBe(true);
    expect(budget.write(stream, message)).toBe(false);
  });

  it("lets one message through on an idle stream even if it alone is larger than the budget", () => {
    expect(new WriteBudget(10).write(new StalledStream(), Buffer.alloc(100))).toBe(true);
  });
});
