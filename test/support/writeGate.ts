/**
 * Decides when a MemoryKeyValueStore's writes complete (its completeWrite option): on the next
 * microtask while open, or held until release() once hold() is called (or from the start), as the
 * simulator holds them until their virtual time comes, or as a crash falls before them.
 */
export class WriteGate {
  private holding: boolean;
  private readonly held: (() => void)[] = [];

  constructor(options: { holding?: boolean } = {}) {
    this.holding = options.holding ?? false;
  }

  readonly completeWrite = (complete: () => void): void => {
    if (this.holding) this.held.push(complete);
    else queueMicrotask(complete);
  };

  /** Writes held, not completed yet. */
  get count(): number {
    return this.held.length;
  }

  /** Holds every write that completes from now on. */
  hold(): void {
    this.holding = true;
  }

  /** Completes the held write at `position` in start order (default: the oldest). */
  release(position = 0): void {
    const [complete] = this.held.splice(position, 1);
    complete!();
  }
}
