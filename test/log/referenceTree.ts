import { EMPTY_ROOT, hashChildren } from "../../src/log/hasher";

/**
 * A naive RFC 6962 tree, written straight from the definitions (RFC 6962 §2.1, and the Merkle Tree
 * Certificates draft §4.4 for subtree proofs), to check the real code against. Test only. It uses plain
 * numbers and recursion over leaf ranges D[start:end], and shares nothing with src/log but the two hash
 * functions, so a mistake in the real code's addressing cannot hide in both.
 */
export class ReferenceTree {
  private readonly memo = new Map<string, Buffer>();

  constructor(readonly leafHashes: readonly Buffer[]) {}

  /** MTH(D[start:end]). */
  hash(start: number, end: number): Buffer {
    const key = `${start},${end}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const computed = this.computeHash(start, end);
    this.memo.set(key, computed);
    return computed;
  }

  /** The hash of the perfect node covering leaves [index * 2^level, (index + 1) * 2^level). */
  nodeHash(level: number, index: number): Buffer {
    const width = 2 ** level;
    return this.hash(index * width, (index + 1) * width);
  }

  /** PATH(leaf, D[start:end]): the inclusion proof of leaf `leaf` (an absolute index) in D[start:end]. */
  path(leaf: number, start: number, end: number): Buffer[] {
    if (end - start === 1) return [];
    const split = start + splitPoint(end - start);
    if (leaf < split) return [...this.path(leaf, start, split), this.hash(split, end)];
    return [...this.path(leaf, split, end), this.hash(start, split)];
  }

  /** PROOF(first, D[0:second]) = SUBPROOF(first, D[0:second], true). */
  consistency(first: number, second: number): Buffer[] {
    return this.subproof(first, 0, second, true);
  }

  /** SUBTREE_PROOF(start, end, D[0:size]) = SUBTREE_SUBPROOF(start, end, D[0:size], true). */
  subtreeConsistency(start: number, end: number, size: number): Buffer[] {
    return this.subtreeSubproof(start, end, 0, size, true);
  }

  private computeHash(start: number, end: number): Buffer {
    if (end === start) return EMPTY_ROOT;
    if (end - start === 1) return this.leafHashes[start];
    const split = start + splitPoint(end - start);
    return hashChildren(this.hash(start, split), this.hash(split, end));
  }

  /** SUBPROOF(m, D[start:end], b), with m = first - start. */
  private subproof(first: number, start: number, end: number, known: boolean): Buffer[] {
    if (first === end) return known ? [] : [this.hash(start, end)];
    const split = start + splitPoint(end - start);
    if (first <= split) return [...this.subproof(first, start, split, known), this.hash(split, end)];
    return [...this.subproof(first, split, end, false), this.hash(start, split)];
  }

  /** SUBTREE_SUBPROOF over the node D[nodeStart:nodeEnd], for the subtree [start, end) in absolute positions. */
  private subtreeSubproof(start: number, end: number, nodeStart: number, nodeEnd: number, known: boolean): Buffer[] {
    if (start === nodeStart && end === nodeEnd) return known ? [] : [this.hash(nodeStart, nodeEnd)];
    const split = nodeStart + splitPoint(nodeEnd - nodeStart);
    if (end <= split) return [...this.subtreeSubproof(start, end, nodeStart, split, known), this.hash(split, nodeEnd)];
    if (start >= split) return [...this.subtreeSubproof(start, end, split, nodeEnd, known), this.hash(nodeStart, split)];
    return [...this.subtreeSubproof(split, end, split, nodeEnd, false), this.hash(nodeStart, split)];
  }
}

/** The largest power of two k with k < n (n > 1), by counting up. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Every node of the tree of `size` leaves, as [start, end) ranges: the ranges the RFC 6962 recursion visits. */
export function treeNodes(size: number): Array<[number, number]> {
  const nodes: Array<[number, number]> = [];
  const visit = (start: number, end: number): void => {
    nodes.push([start, end]);
    if (end - start === 1) return;
    const split = start + splitPoint(end - start);
    visit(start, split);
    visit(split, end);
  };
  visit(0, size);
  return nodes;
}
