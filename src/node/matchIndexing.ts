import type { Ledger } from "../ledger";

/**
 * Keeps a running node's match index built. The index's indexing work (new levels, merges, the
 * rebuild after many retractions: seconds at ten million hashes) is done here, a slice of a few
 * milliseconds per turn of the event loop, from each commit until none is left, so that matches,
 * submissions and consensus messages are served in between. A search never indexes: until a build
 * completes, it scans the hashes not yet in a level.
 */
export class MatchIndexing {
  private scheduled = false;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly ledger: Ledger) {
    this.unsubscribe = ledger.onCommit(() => this.schedule());
  }

  /** Indexes everything at once: at start, before the node serves, when nothing else waits. */
  catchUp(): void {
    this.ledger.index.indexPending();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped && this.ledger.index.indexSlice()) this.schedule();
    });
  }
}
