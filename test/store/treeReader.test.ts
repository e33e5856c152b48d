import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyCosignedCheckpoint } from "../../src/audit";
import { buildBatch } from "../../src/batch";
import { BatchHeader } from "../../src/gen/hashfed/v1/batch";
import { hashLeaf } from "../../src/log/hasher";
import { verifyConsistency, verifyInclusion } from "../../src/log/verify";
import { Ledger } from "../../src/ledger/ledger";
import { LogStore, type TreeReader } from "../../src/store";
import { ReferenceTree } from "../log/referenceTree";
import { hashfedRejection } from "../support/hashfedErrors";
import { certificateFor, federationFixture, precommitsBy, StatementMaker } from "../support/statements";

/**
 * Goal: the store serves RFC 9162 inclusion and consistency proofs for every tree size the log has
 * had, equal to the proofs of the definition, whether the tree's nodes come from memory (right after
 * the commits) or from LevelDB (after a restart).
 * Method: a 300-entry log committed through Ledger.commit in batches of varied sizes (1 to 64, so
 * batches start and end at every alignment). With the nodes in memory: every inclusion proof (every
 * size n <= 300, every index < n) and every consistency proof (every m <= n) is compared with test/log's
 * reference tree, and verified against its roots (consistency: the pairs with a checkpointed size).
 * After reopening: every inclusion proof again, and the consistency proofs to and from each batch
 * boundary. The reference roots at batch boundaries are also the committed headers' and checkpoints'.
 */

const BATCH_SIZES = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 64, 63, 30];
const LOG_SIZE = BATCH_SIZES.reduce((sum, size) => sum + size, 0);
const fixture = federationFixture({ label: "tree" });
const { federation } = fixture;
const alpha = fixture.validators[0]!;
const maker = new StatementMaker(federation, "tree");
const entries = Array.from({ length: LOG_SIZE }, (_, index) =>
  maker.add(index % 2 === 0 ? alpha.key : fixture.observer.key, { signalType: (["sha256", "md5", "pdq"] as const)[index % 3] }),
);
const leafHashes = entries.map(({ signed }) => hashLeaf(signed.entryBytes));
const reference = new ReferenceTree(leafHashes);
const hex = (hashes: readonly Uint8Array[]): string => hashes.map((hash) => Buffer.from(hash).toString("hex")).join(",");
const sameHashes = (actual: readonly Buffer[], expected: readonly Buffer[]): boolean =>
  actual.length === expected.length && actual.every((hash, position) => hash.equals(expected[position]!));

let folder: string;
let ledger: Ledger;
const boundaries: number[] = [];

beforeAll(async () => {
  expect(LOG_SIZE).toBe(300);
  folder = await mkdtemp(join(tmpdir(), "hashfed-tree-test-"));
  const store = await LogStore.open(join(folder, "data"));
  await store.bindFederation(federation.id);
  ledger = await Ledger.open(federation, store);
  let start = 0;
  for (const size of BATCH_SIZES) {
    const meta = { proposer: alpha.name, proposerTimeMs: BigInt(start) };
    const { batch } = buildBatch(federation, ledger.state, ledger.head, entries.slice(start, start + size), meta);
    await ledger.commit(batch!, certificateFor(batch!, precommitsBy(federation, [alpha], batch!)));
    start += size;
    boundaries.push(start);
  }
});

afterAll(async () => {
  await ledger.store.close();
  await rm(folder, { recursive: true, force: true });
});

/**
 * Every inclusion proof of every tree size, compared with the reference's; with `verify`, each is also
 * verified against the reference root (a proof equal to a verified one needs no second verification).
 */
async function inclusionProblems(tree: TreeReader, verify: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (let size = 1; size <= LOG_SIZE; size++) {
    const root = reference.hash(0, size);
    const proofs = await tree.inclusionProofs(Array.from({ length: size }, (_, index) => BigInt(index)), BigInt(size));
    proofs.forEach((proof, index) => {
      if (!sameHashes(proof, reference.path(index, 0, size))) problems.push(`inclusion of ${index} in ${size}: differs from the reference`);
      if (!verify) return;
      try {
        verifyInclusion(BigInt(index), BigInt(size), leafHashes[index]!, proof, root);
      } catch (error) {
        problems.push(`inclusion of ${index} in ${size}: ${String(error)}`);
      }
    });
  }
  return problems;
}

/**
 * Consistency proofs from each size in `firsts(second)` to each size `second`, compared with the
 * reference's; those for which `verify` holds are also verified against the reference roots.
 */
async function consistencyProblems(
  tree: TreeReader,
  seconds: readonly number[],
  firsts: (second: number) => number[],
  verify: (first: number, second: number) => boolean,
): Promise<string[]> {
  const problems: string[] = [];
  for (const second of seconds) {
    const sizes = firsts(second);
    const proofs = await Promise.all(sizes.map((first) => tree.consistencyProof(BigInt(first), BigInt(second))));
    proofs.forEach((proof, position) => {
      const first = sizes[position]!;
      if (!sameHashes(proof, reference.consistency(first, second))) problems.push(`consistency ${first} -> ${second}: differs from the reference`);
      if (!verify(first, second)) return;
      try {
        verifyConsistency(BigInt(first), BigInt(second), reference.hash(0, first), reference.hash(0, second), proof);
      } catch (error) {
        problems.push(`consistency ${first} -> ${second}: ${String(error)}`);
      }
    });
  }
  return problems;
}

const upTo = (size: number): number[] => Array.from({ length: size }, (_, index) => index + 1);
const ALL_SIZES = upTo(LOG_SIZE);
const never = () => false;
/** Sizes with a cosigned checkpoint: the pairs auditors ask consistency proofs for. */
const checkpointed = (first: number, second: number) => boundaries.includes(first) || boundaries.includes(second);

test("the committed headers and cosigned checkpoints carry the reference roots", async () => {
  let height = 0n;
  for (const size of boundaries) {
    height += 1n;
    const root = reference.hash(0, size);
    const header = BatchHeader.decode((await ledger.store.readBatch(height))!.header);
    expect({ height: header.height, treeSize: header.treeSize, root: header.root.toString("hex") }).toEqual({ height, treeSize: BigInt(size), root: root.toString("hex") });
    expect(verifyCosignedCheckpoint(federation, (await ledger.store.readCheckpoint(BigInt(size)))!).checkpoint.root).toEqual(root);
  }
  expect(ledger.head.range.root()).toEqual(reference.hash(0, LOG_SIZE));
});

describe("right after the commits, with the tree's nodes in memory", () => {
  test("every inclusion proof of every tree size equals the reference's and verifies", async () => {
    expect(await inclusionProblems(ledger.tree, true)).toEqual([]);
  });

  // All 45,150 pairs are compared with the reference; verifying each against the roots as well
  // would add ~1.5 s, so that is done for the pairs with a checkpointed size (~7,900).
  test("every consistency proof between two tree sizes equals the reference's, and those from or to a checkpointed size verify", async () => {
    expect(await consistencyProblems(ledger.tree, ALL_SIZES, upTo, checkpointed)).toEqual([]);
  });

  test("proofs of the latest entries read no node from the store", async () => {
    const readNodes = jest.spyOn(ledger.store, "readNodes");
    try {
      const proofs = await ledger.tree.inclusionProofs(Array.from({ length: LOG_SIZE }, (_, index) => BigInt(index)), BigInt(LOG_SIZE));
      expect(proofs.map(hex)).toEqual(Array.from({ length: LOG_SIZE }, (_, index) => hex(reference.path(index, 0, LOG_SIZE))));
      expect(readNodes).not.toHaveBeenCalled();
    } finally {
      readNodes.mockRestore();
    }
  });

  test("a single inclusionProof equals the batched one", async () => {
    for (const index of [0, 1, 127, 128, 255, 256, 299]) {
      expect(hex(await ledger.tree.inclusionProof(BigInt(index), 300n))).toBe(hex(reference.path(index, 0, 300)));
    }
  });
});

describe("after a restart, with the nodes read from LevelDB", () => {
  let reopened: Ledger;

  beforeAll(async () => {
    await ledger.store.close();
    reopened = await Ledger.open(federation, await LogStore.open(join(folder, "data")));
    ledger = reopened;
  });

  test("the head is the one committed", () => {
    expect(reopened.treeSize).toBe(300n);
    expect(reopened.head.range.root()).toEqual(reference.hash(0, LOG_SIZE));
  });

  test("every inclusion proof of every tree size equals the reference's", async () => {
    expect(await inclusionProblems(reopened.tree, false)).toEqual([]);
  });

  // Each consistency proof reads from LevelDB (~130 µs a proof here), so all 45,150 pairs would take
  // ~6 s. The inclusion proofs above already read every stored node; these pairs cover every first
  // size against each batch boundary and each batch boundary against every larger size.
  test("every consistency proof from any size to a batch boundary, and from a batch boundary to any size, equals the reference's", async () => {
    expect(await consistencyProblems(reopened.tree, boundaries, upTo, never)).toEqual([]);
    const fromBoundaries = (second: number) => boundaries.filter((first) => first <= second);
    expect(await consistencyProblems(reopened.tree, ALL_SIZES, fromBoundaries, never)).toEqual([]);
  });

  test("a second ledger replayed from the same store serves the same proofs", async () => {
    const fresh = (await Ledger.open(federation, reopened.store)).tree;
    for (const [first, second] of [[1, 300], [150, 299], [256, 300], [299, 300]] as const) {
      expect(hex(await fresh.consistencyProof(BigInt(first), BigInt(second)))).toBe(hex(reference.consistency(first, second)));
    }
  });

  test("a node missing from the store is reported as STORE_DAMAGED, never served as a wrong proof", async () => {
    const refused = await hashfedRejection(reopened.tree.inclusionProof(0n, 301n));
    expect({ kind: refused.kind, code: refused.code }).toEqual({ kind: "unavailable", code: "STORE_DAMAGED" });
  });
});
