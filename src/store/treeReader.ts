import { assert } from "../assert";
import type { NodeWrite } from "../log/compactRange";
import { HASH_BYTES, hashChildren } from "../log/hasher";
import { consistencyProofRanges, inclusionProofRanges } from "../log/proof";
import { foldRangeHashes, type LeafRange, type NodeId, perfectNode, rangeNodes } from "../log/subtree";
import { GrowableRecords, RecentRecords } from "../table";
import { completedNodeRange, IN_MEMORY_LEVEL_MIN } from "./batchSummary";
import type { LogStore } from "./logStore";

/**
 * Nodes of the two lowest levels written by recent batches stay in memory too, for this many
 * leaves, oldest evicted first: proofs for fresh entries (every acknowledgement carries one) then
 * need no store read. 2^17 leaves take 6 MiB of hashes at most, in two typed arrays: no object per
 * node for the collector to trace, where maps of Buffers had held three per node.
 */
const RECENT_LEAVES = 1 << 17;
const LEVELS = 64;
/** Folded right-edge ranges kept; a handful per tree size that proofs are asked against. */
const FOLDED_RANGES_MAX = 4096;

/**
 * Reads tree hashes and builds proofs for any tree size up to the committed one.
 *
 * Levels IN_MEMORY_LEVEL_MIN and above live in memory, one array per level in index order: 8 bytes
 * per entry in all, loaded from batch summaries at start. A proof then reads at most the one or two
 * nodes it needs from the two lowest levels, in one store call for however many proofs are asked
 * at once.
 */
export class TreeReader {
  private readonly upper: GrowableRecords[] = Array.from({ length: LEVELS }, () => new GrowableRecords(HASH_BYTES));
  /** Level l holds the nodes above the last RECENT_LEAVES leaves: RECENT_LEAVES >> l of them. */
  private readonly recent: RecentRecords[] = Array.from({ length: IN_MEMORY_LEVEL_MIN }, (_, level) => new RecentRecords(HASH_BYTES, RECENT_LEAVES >> level));
  private readonly foldedRanges = new Map<string, Buffer>();

  constructor(private readonly store: LogStore) {}

  /** Call after each commit with the batch's node writes, once they are durable. */
  remember(writes: readonly NodeWrite[]): void {
    for (const node of writes) {
      if (node.level >= IN_MEMORY_LEVEL_MIN) this.pushUpper(node.level, node.index, node.hash);
      else this.recent[node.level]!.put(Number(node.index), node.hash);
    }
  }

  /**
   * Replays a batch summary's upper node hashes: the batch appended leaves [start, end). False, and
   * nothing remembered, unless the summary holds exactly the nodes those leaves complete (a store
   * damaged on disk).
   */
  rememberUpper(start: bigint, end: bigint, hashes: Uint8Array): boolean {
    const levels: { level: number; first: bigint; count: number }[] = [];
    for (let level = IN_MEMORY_LEVEL_MIN; level < LEVELS && end >> BigInt(level) > 0n; level++) levels.push({ level, ...completedNodeRange(level, start, end) });
    if (levels.reduce((sum, { count }) => sum + count * HASH_BYTES, 0) !== hashes.length) return false;
    let offset = 0;
    for (const { level, first, count } of levels) {
      for (let i = 0; i < count; i++, offset += HASH_BYTES) this.pushUpper(level, first + BigInt(i), hashes.subarray(offset, offset + HASH_BYTES));
    }
    return true;
  }

  /** The root of the tree of `treeSize` leaves (at least one) as proofs see it: upper levels from memory. */
  async rootAt(treeSize: bigint): Promise<Buffer> {
    return (await this.rangeHashes([[{ start: 0n, end: treeSize }]]))[0]![0]!;
  }

  /**
   * The first node held in memory above the lowest in-memory level that is not the hash of its two
   * children, if any: a check, at start, of the batch summaries the upper levels come from, which
   * LevelDB reads without checksums. (rootAt covers the nodes without a parent.)
   */
  firstInconsistentUpperNode(): NodeId | undefined {
    for (let level = IN_MEMORY_LEVEL_MIN + 1; level < LEVELS; level++) {
      const parents = this.upper[level]!;
      const children = this.upper[level - 1]!;
      for (let index = 0; index < parents.length; index++) {
        if (!hashChildren(children.view(2 * index), children.view(2 * index + 1)).equals(parents.view(index))) return { level, index: BigInt(index) };
      }
    }
    return undefined;
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

  private pushUpper(level: number, index: bigint, hash: Uint8Array): void {
    assert(BigInt(this.upper[level]!.length) === index, "upper nodes arrive in index order, each once");
    this.upper[level]!.push(hash);
  }

  /** The hash of every range of every proof, reading all nodes not in memory in one store call. */
  private async rangeHashes(proofs: readonly (readonly LeafRange[])[]): Promise<Buffer[][]> {
    const plans = proofs.map((ranges) => ranges.map((range) => this.plan(range)));
    const fetched: Map<bigint, Buffer>[] = Array.from({ length: IN_MEMORY_LEVEL_MIN }, () => new Map());
    const missing: NodeId[] = [];
    const need = (node: NodeId): void => {
      if (node.level >= IN_MEMORY_LEVEL_MIN || fetched[node.level]!.has(node.index)) return;
      // Copied now rather than when the proofs are put together: a commit meanwhile may reuse its slot.
      const recent = this.recent[node.level]!.copy(Number(node.index));
      fetched[node.level]!.set(node.index, recent ?? Buffer.alloc(0));
      if (recent === undefined) missing.push(node);
    };
    for (const proof of plans) {
      for (const plan of proof) {
        if ("node" in plan) need(plan.node);
        else if ("nodes" in plan) plan.nodes.forEach(need);
      }
    }
    if (missing.length > 0) {
      const hashes = await this.store.readNodes(missing);
      missing.forEach((node, i) => fetched[node.level]!.set(node.index, hashes[i]!));
    }
    const hashOf = (node: NodeId): Buffer => (node.level >= IN_MEMORY_LEVEL_MIN ? this.upper[node.level]!.view(Number(node.index)) : fetched[node.level]!.get(node.index)!);
    return plans.map((proof, p) =>
      proof.map((plan, r) => {
        if ("hash" in plan) return plan.hash;
        if ("node" in plan) return hashOf(plan.node);
        // Proofs planned in one call share their right-edge ranges: the first to get here folds each.
        const range = proofs[p]![r]!;
        return this.foldedRanges.get(rangeName(range)) ?? this.rememberFolded(range, foldRangeHashes(plan.nodes.map(hashOf)));
      }),
    );
  }

  /** How to get a range's hash: most ranges are one perfect node; a right-edge range may be folded already. */
  private plan(range: LeafRange): { node: NodeId } | { hash: Buffer } | { nodes: NodeId[] } {
    const node = perfectNode(range.start, range.end);
    if (node !== undefined) return { node };
    const hash = this.foldedRanges.get(rangeName(range));
    return hash !== undefined ? { hash } : { nodes: rangeNodes(range.start, range.end) };
  }

  /**
   * A range of several nodes lies on the right edge of some tree size, and proofs against that size
   * all need it: its folded hash is kept (it never changes) so the fold is paid once.
   */
  private rememberFolded(range: LeafRange, hash: Buffer): Buffer {
    if (this.foldedRanges.size >= FOLDED_RANGES_MAX) this.foldedRanges.clear();
    this.foldedRanges.set(rangeName(range), hash);
    return hash;
  }
}

function rangeName(range: LeafRange): string {
  return `${range.start}:${range.end}`;
}
