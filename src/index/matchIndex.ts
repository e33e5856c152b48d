import { assertNever } from "../assert";
import type { SignalTypeName } from "../signals";
import type { HashSeed } from "../table";
import { ExactIndex } from "./exactIndex";
import { PdqMultiIndex } from "./pdqMultiIndex";

export interface IndexHit {
  readonly logIndex: number;
  readonly distance: number;
}

/**
 * The match index: derived state, rebuilt from the log and the reveals at start and updated at each
 * commit. Matching reads it and never waits on consensus. Its owner runs the indexing work
 * (indexSlice, indexPending; node/matchIndexing.ts in a node): searches never do.
 */
export class MatchIndex {
  /**
   * PDQ hashes are in an exact index too: distance 0 (the node's duplicate check on every submission)
   * is a lookup in a table keyed with the node's secret seed, which values chosen to crowd one
   * multi-index bucket cannot slow down.
   */
  private readonly exact: Record<SignalTypeName, ExactIndex>;
  private readonly pdq = new PdqMultiIndex();
  /** The exact tables cannot delete, so retracted entries stay in them and are filtered out of their results; the PDQ multi-index removes them. */
  private readonly retracted = new Set<number>();

  /** `seed` keys the exact tables' hash (see FixedKeyTable); a node passes a secret random one. */
  constructor(seed: HashSeed = [0, 0]) {
    this.exact = { md5: new ExactIndex(16, seed), sha256: new ExactIndex(32, seed), pdq: new ExactIndex(32, seed) };
  }

  add(type: SignalTypeName, value: Uint8Array, logIndex: number): void {
    if (type === "pdq") this.pdq.add(value, logIndex);
    this.exact[type].add(value, logIndex);
  }

  /** Live PDQ hashes: those a near-duplicate search can find (retracted ones are removed from the multi-index). */
  get pdqHashes(): number {
    return this.pdq.size;
  }

  /** Does one slice of the PDQ multi-index's indexing work; returns whether work is left (see PdqMultiIndex.indexSlice). */
  indexSlice(): boolean {
    return this.pdq.indexSlice();
  }

  /** PDQ hashes in no level of the multi-index yet: searches scan them. */
  get pdqUnindexed(): number {
    return this.pdq.unindexedCount;
  }

  /** Does all of the PDQ multi-index's indexing work at once. */
  indexPending(): void {
    this.pdq.indexPending();
  }

  retract(logIndex: number): void {
    this.retracted.add(logIndex);
    this.pdq.remove(logIndex);
  }

  /** Live entries matching `value`. Exact types ignore `distanceMax`: a cryptographic hash matches only itself. */
  match(type: SignalTypeName, value: Uint8Array, distanceMax: number): IndexHit[] {
    return this.search(type, value, distanceMax).filter((hit) => !this.retracted.has(hit.logIndex));
  }

  private search(type: SignalTypeName, value: Uint8Array, distanceMax: number): IndexHit[] {
    switch (type) {
      case "pdq":
        if (distanceMax > 0) return this.pdq.search(value, distanceMax);
        return this.exact.pdq.lookup(value).map((logIndex) => ({ logIndex, distance: 0 }));
      case "md5":
      case "sha256":
        return this.exact[type].lookup(value).map((logIndex) => ({ logIndex, distance: 0 }));
      default:
        return assertNever(type);
    }
  }
}
