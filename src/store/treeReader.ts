import type { NodeWrite } from "../log/compactRange";
import { consistencyProofRanges, inclusionProofRanges } from "../log/proof";
import { foldRangeHashes, type LeafRange, type NodeId, rangeNodes } from "../log/subtree";
import type { LogStore } from "./logStore";

/**
 * Upper tree levels are few (a 2^-level share of the leaves) and touched by every proof, so they stay
 * in memory for good.
 */
const PERMANENT_LEVEL_MIN = 6;
/**
 * Nodes written by recent batches also stay in memory, up to this many, oldest evicted first: proofs
 * for fresh entries (every acknowledgement carries one) then need no store read. 2^18 nodes of 32
 * bytes are about 25 MiB with the maps' overhead and cover the last ~130,000 entries.
 */
const RECENT_NODES_MAX = 1 << 18;
const LEVELS = 64;

/** Reads tree hashes and builds proofs for any tree size up to the committed one. */
export class TreeReader {
  /** One map per level, from node index to hash. */
  private readonly permanent: Map<bigint, Buffer>[] = Array.from({ length: LEVELS }, () => new Map());
  private readonly recent: Map<bigint, Buffer>[] = Array.from({ length: LEVELS }, () => new Map());
  /** The recent nodes in write order, for eviction. */
  private readonly recentOrder: NodeId[] = [];
  private recentOldest = 0;

  private constructor(private readonly store: LogStore) {}

  static async open(store: LogStore): Promise<TreeReader> {
    const reader = new TreeReader(store);
    for await (const node of store.scanNodes(PERMANENT_LEVEL_MIN)) reader.permanent[node.level]!.set(node.index, node.hash);
    return reader;
  }

  /** Call after each commit with the batch's node writes, once they are durable. */
  remember(writes: readonly NodeWrite[]): void {
    for (const node of writes) {
      if (node.level >= PERMANENT_LEVEL_MIN) {
        this.permanent[node.level]!.set(node.index, node.hash);
        continue;
      }
      this.recent[node.level]!.set(node.index, node.hash);
      this.recentOrder.push(node);
    }
    while (this.recentOrder.length - this.recentOldest > RECENT_NODES_MAX) {
      const old = this.recentOrder[this.recentOldest++]!;
      this.recent[old.level]!.delete(old.index);
    }
    if (this.recentOldest > RECENT_NODES_MAX) {
      this.recentOrder.splice(0, this.recentOldest);
      this.recentOldest = 0;
    }
  }

  async inclusionProof(index: bigint, treeSize: bigint): Promise<Buffer[]> {
    return (await this.inclusionProofs([index], treeSize))[0]!;
  }

  /** Proofs for many entries against one tree size, with one store read for all the nodes they lack. */
  async inclusionProofs(indexes: readonly bigint[], treeSize: bigint): Promise<Buffer[][]> {
    return this.rangeHashes(indexes.map((index) => inclusionProofRanges(index, treeSize)));
  }

  async consistencyProof(first: bigint, second: bigint): Promise<Buffer[]> {
    return (await this.rangeHashes([consistencyProofRanges(first, second)]))[0]!;
  }

  /** The hash of every range of every proof, reading all uncached nodes in one store call. */
  private async rangeHashes(proofs: readonly (readonly LeafRange[])[]): Promise<Buffer[][]> {
    const nodes = proofs.map((ranges) => ranges.map((range) => rangeNodes(range.start, range.end)));
    const fetched: Map<bigint, Buffer>[] = Array.from({ length: LEVELS }, () => new Map());
    const missing: NodeId[] = [];
    for (const proof of nodes) {
      for (const range of proof) {
        for (const node of range) {
          if (this.cached(node) === undefined && !fetched[node.level]!.has(node.index)) {
            fetched[node.level]!.set(node.index, Buffer.alloc(0));
            missing.push(node);
          }
        }
      }
    }
    if (missing.length > 0) {
      const hashes = await this.store.readNodes(missing);
      missing.forEach((node, i) => fetched[node.level]!.set(node.index, hashes[i]!));
    }
    // Proofs against one tree size share their right-edge ranges, which cost several hashes each.
    const folded = new Map<string, Buffer>();
    const hashOf = (range: LeafRange, rangeNodeIds: NodeId[]): Buffer => {
      if (rangeNodeIds.length === 1) return this.cached(rangeNodeIds[0]!) ?? fetched[rangeNodeIds[0]!.level]!.get(rangeNodeIds[0]!.index)!;
      const key = `${range.start}:${range.end}`;
      let hash = folded.get(key);
      if (hash === undefined) {
        hash = foldRangeHashes(rangeNodeIds.map((node) => this.cached(node) ?? fetched[node.level]!.get(node.index)!));
        folded.set(key, hash);
      }
      return hash;
    };
    return nodes.map((proof, p) => proof.map((rangeNodeIds, r) => hashOf(proofs[p]![r]!, rangeNodeIds)));
  }

  private cached(node: NodeId): Buffer | undefined {
    return this.permanent[node.level]!.get(node.index) ?? this.recent[node.level]!.get(node.index);
  }
}
