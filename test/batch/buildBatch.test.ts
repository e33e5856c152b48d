import fc from "fast-check";
import { createHash } from "node:crypto";
import { assembleBatch, type BatchEntry, buildBatch, type ChainHead, GENESIS_HEADER_HASH, genesisHead, revealsDigest } from "../../src/batch";
import { BatchHeader } from "../../src/gen/hashfed/v1/batch";
import { formatCheckpoint, parseCheckpoint } from "../../src/log/checkpoint";
import { hashLeaf } from "../../src/log/hasher";
import { LogState } from "../../src/state/logState";
import { statementIdOf } from "../../src/statements";
import { ReferenceTree } from "../log/referenceTree";
import { federationFixture, idsOf, StatementMaker } from "../support/statements";

/**
 * Goal: a proposer's batch holds the candidates that obey the log's rules, in order and up to the
 * federation's limit, reports those the log refuses and leaves for later those that clash only with
 * one it takes; its header names the tree the entries make, and its
 * node writes are exactly the perfect subtrees those entries complete, so the store can serve
 * proofs from them.
 * Method: scenarios for the selection; for the tree, a property over random runs of batch sizes
 * chained from genesis, compared with the naive RFC 6962 reference tree of test/log.
 */

const fixture = federationFixture({ parameters: { batchEntriesMax: 1000 } });
const { federation } = fixture;
const alpha = fixture.validators[0]!.key;
const observer = fixture.observer.key;
const maker = new StatementMaker(federation, "build");
const meta = { proposer: fixture.validators[0]!.name, proposerTimeMs: 1_700_000_000_123n };

/** Hashes are compared as hex text: jest compares Buffers byte by byte through its generic equality, which is slow. */
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The head after `batch`, as the ledger advances it. */
const headAfter = (batch: { header: BatchHeader; id: Buffer; range: ChainHead["range"] }): ChainHead => ({ height: batch.header.height, headerHash: batch.id, range: batch.range });

describe("buildBatch", () => {
  test("leaves out and reports, in order, every candidate that breaks a log rule", () => {
    const committed = maker.add(alpha);
    const state = new LogState();
    state.append(committed.signed);
    const retracted = maker.add(alpha);
    state.append(retracted.signed);
    state.append(maker.retract(alpha, retracted.signed.id).signed);
    const first = maker.add(alpha);
    const second = maker.add(observer);
    const unknownTarget = maker.retract(alpha, statementIdOf(Buffer.from("never submitted")));
    const notOwner = maker.retract(observer, first.signed.id);
    const withdrawal = maker.retract(alpha, first.signed.id);
    const twice = maker.retract(alpha, retracted.signed.id);
    const candidates: BatchEntry[] = [first, committed, unknownTarget, notOwner, second, withdrawal, twice];
    const { batch, rejected, deferred } = buildBatch(federation, state, genesisHead(), candidates, meta);
    expect(idsOf(batch!.entries)).toEqual(idsOf([first, second, withdrawal]));
    expect(batch!.entries[0]).toBe(first);
    expect(rejected.map(({ entry, error }) => [entry, error.kind, error.code])).toEqual([
      [committed, "exists", "STATEMENT_DUPLICATE"],
      [unknownTarget, "not-found", "RETRACT_TARGET_UNKNOWN"],
      [notOwner, "forbidden", "RETRACT_NOT_OWNER"],
      [twice, "precondition", "RETRACT_TWICE"],
    ]);
    expect(deferred).toEqual([]);
    expect(state.size).toBe(3);
  });

  test("leaves for a later batch, unreported, a candidate that clashes only with one it takes", () => {
    const added = maker.add(alpha);
    const state = new LogState();
    state.append(added.signed);
    const withdrawal = maker.retract(alpha, added.signed.id);
    const sameAgain = maker.retract(alpha, added.signed.id);
    const fresh = maker.add(alpha);
    const first = buildBatch(federation, state, genesisHead(), [withdrawal, fresh, fresh, sameAgain], meta);
    expect(idsOf(first.batch!.entries)).toEqual(idsOf([withdrawal, fresh]));
    expect(first.rejected).toEqual([]);
    expect(idsOf(first.deferred)).toEqual(idsOf([fresh, sameAgain]));
    // Once the batch has committed, the log refuses them, saying which entry did what they do.
    for (const { signed } of first.batch!.entries) state.append(signed);
    const later = buildBatch(federation, state, headAfter(first.batch!), first.deferred, meta);
    expect(later.batch).toBeUndefined();
    expect(later.rejected.map(({ error }) => [error.code, error.message])).toEqual([
      ["STATEMENT_DUPLICATE", expect.stringContaining("at log index 2")],
      ["RETRACT_TWICE", expect.stringContaining("by the entry at log index 1")],
    ]);
    expect(later.deferred).toEqual([]);
  });

  test("a second retraction of an entry added in the same batch is left for later too", () => {
    const added = maker.add(alpha);
    const withdrawal = maker.retract(alpha, added.signed.id);
    const again = maker.retract(alpha, added.signed.id);
    const { batch, rejected, deferred } = buildBatch(federation, new LogState(), genesisHead(), [added, withdrawal, again], meta);
    expect(idsOf(batch!.entries)).toEqual(idsOf([added, withdrawal]));
    expect(rejected).toEqual([]);
    expect(idsOf(deferred)).toEqual(idsOf([again]));
  });

  test("refuses a candidate that is already committed", () => {
    const committed = maker.add(alpha);
    const state = new LogState();
    state.append(committed.signed);
    const fresh = maker.add(alpha);
    const { batch, rejected } = buildBatch(federation, state, genesisHead(), [committed, fresh], meta);
    expect(idsOf(batch!.entries)).toEqual(idsOf([fresh]));
    expect(rejected.map(({ error }) => error.message)).toEqual([expect.stringContaining("at log index 0")]);
  });

  test("gives no batch when no candidate can be appended, or there are none", () => {
    const state = new LogState();
    const orphan = maker.retract(alpha, maker.add(alpha).signed.id);
    expect(buildBatch(federation, state, genesisHead(), [orphan], meta)).toEqual({ batch: undefined, rejected: [expect.objectContaining({ entry: orphan })], deferred: [] });
    expect(buildBatch(federation, state, genesisHead(), [], meta)).toEqual({ batch: undefined, rejected: [], deferred: [] });
  });

  test("stops at batchEntriesMax, leaving the rest neither taken nor reported, for the next batch", () => {
    const small = federationFixture({ parameters: { batchEntriesMax: 3 } }).federation;
    const smallMaker = new StatementMaker(small, "small");
    const [a, b, c, d] = [0, 1, 2, 3].map(() => smallMaker.add(alpha));
    const state = new LogState();
    const first = buildBatch(small, state, genesisHead(), [a!, a!, b!, c!, d!, a!], meta);
    expect(idsOf(first.batch!.entries)).toEqual(idsOf([a!, b!, c!]));
    expect(first.rejected).toEqual([]);
    expect(idsOf(first.deferred)).toEqual(idsOf([a!]));
    expect(first.batch!.header.entryCount).toBe(3);
    for (const { signed } of first.batch!.entries) state.append(signed);
    const second = buildBatch(small, state, headAfter(first.batch!), [d!, a!], meta);
    expect(idsOf(second.batch!.entries)).toEqual(idsOf([d!]));
    expect(second.rejected.map(({ error }) => error.code)).toEqual(["STATEMENT_DUPLICATE"]);
    expect(second.batch!.header.height).toBe(2n);
  });

  test("a retraction of an entry earlier in the same batch is taken", () => {
    const added = maker.add(alpha);
    const withdrawal = maker.retract(alpha, added.signed.id);
    const { batch, rejected } = buildBatch(federation, new LogState(), genesisHead(), [added, withdrawal], meta);
    expect(idsOf(batch!.entries)).toEqual(idsOf([added, withdrawal]));
    expect(rejected).toEqual([]);
  });
});

describe("assembleBatch", () => {
  const pool = Array.from({ length: 160 }, (_, index) => maker.add(index % 3 === 0 ? observer : alpha, { signalType: (["sha256", "md5", "pdq"] as const)[index % 3] }));
  const reference = new ReferenceTree(pool.map(({ signed }) => hashLeaf(signed.entryBytes)));

  /** Every perfect node (level, index) whose last leaf is in [previousSize, size). */
  function nodesCompleted(previousSize: number, size: number): string[] {
    const nodes: string[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      const width = 2 ** level;
      for (let index = Math.floor(previousSize / width); (index + 1) * width <= size; index++) {
        if ((index + 1) * width > previousSize) nodes.push(`${level}/${index}`);
      }
    }
    return nodes.sort();
  }

  test("property: chained from genesis, each header names the RFC 6962 tree of all entries so far and the node writes are exactly the perfect nodes completed", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), (sizes) => {
        let head = genesisHead();
        let size = 0;
        for (const count of sizes) {
          if (size + count > pool.length) break;
          const entries = pool.slice(size, size + count);
          const batch = assembleBatch(federation, head, entries, meta);
          const previousSize = size;
          size += count;
          const rootHex = hex(reference.hash(0, size));
          expect(head.range.size).toBe(BigInt(previousSize));
          expect({ ...batch.header, federationId: hex(batch.header.federationId), previousHeaderHash: hex(batch.header.previousHeaderHash), root: hex(batch.header.root), revealsDigest: hex(batch.header.revealsDigest) }).toEqual({
            federationId: hex(federation.id),
            height: head.height + 1n,
            previousHeaderHash: hex(head.headerHash),
            treeSize: BigInt(size),
            root: rootHex,
            revealsDigest: hex(revealsDigest(entries)),
            proposerTimeMs: meta.proposerTimeMs,
            proposer: meta.proposer,
            entryCount: count,
          });
          expect(hex(BatchHeader.encode(BatchHeader.decode(batch.headerBytes)).finish())).toBe(hex(batch.headerBytes));
          expect(BatchHeader.decode(batch.headerBytes).treeSize).toBe(BigInt(size));
          expect(hex(batch.id)).toBe(createHash("sha256").update(batch.headerBytes).digest("hex"));
          expect(batch.range.size).toBe(BigInt(size));
          expect(hex(batch.range.root())).toBe(rootHex);
          const written = batch.nodeWrites.map((node) => `${node.level}/${node.index}`);
          expect([...written].sort()).toEqual(nodesCompleted(previousSize, size));
          const wrongHashes = batch.nodeWrites.filter((node) => !node.hash.equals(reference.nodeHash(node.level, Number(node.index))));
          expect(wrongHashes.map((node) => `${node.level}/${node.index}`)).toEqual([]);
          const checkpoint = parseCheckpoint(batch.checkpointBody);
          expect({ ...checkpoint, root: hex(checkpoint.root) }).toEqual({ origin: federation.origin, size: BigInt(size), root: rootHex, extensions: [] });
          expect(batch.checkpointBody).toBe(formatCheckpoint(batch.checkpoint));
          head = headAfter(batch);
        }
      }),
      { numRuns: 60 },
    );
  });

  test("the first batch follows 32 zero bytes at height 1", () => {
    const batch = assembleBatch(federation, genesisHead(), pool.slice(0, 1), meta);
    expect(batch.header.height).toBe(1n);
    expect(batch.header.previousHeaderHash).toEqual(GENESIS_HEADER_HASH);
    expect(GENESIS_HEADER_HASH).toEqual(Buffer.alloc(32));
  });

  test("the id changes with the proposer's time and name, which the header carries", () => {
    const entries = pool.slice(0, 2);
    const base = assembleBatch(federation, genesisHead(), entries, meta);
    expect(assembleBatch(federation, genesisHead(), entries, meta).id).toEqual(base.id);
    expect(assembleBatch(federation, genesisHead(), entries, { ...meta, proposerTimeMs: 1n }).id).not.toEqual(base.id);
    expect(assembleBatch(federation, genesisHead(), entries, { ...meta, proposer: "bravo.example" }).id).not.toEqual(base.id);
  });
});

describe("revealsDigest", () => {
  const added = [maker.add(alpha), maker.add(alpha, { signalType: "md5" })];
  const withdrawal = maker.retract(alpha, added[0]!.signed.id);
  const digest = revealsDigest([added[0]!, withdrawal, added[1]!]);

  test("depends on every bit of every reveal", () => {
    for (const part of ["salt", "value"] as const) {
      for (const byte of [0, 15]) {
        const changed = { ...added[1]!, reveal: { ...added[1]!.reveal, [part]: Buffer.from(added[1]!.reveal[part]) } };
        changed.reveal[part][byte]! ^= 0x80;
        expect(revealsDigest([added[0]!, withdrawal, changed])).not.toEqual(digest);
      }
    }
  });

  test("depends on the order of the entries, retractions included", () => {
    expect(revealsDigest([added[1]!, withdrawal, added[0]!])).not.toEqual(digest);
    expect(revealsDigest([withdrawal, added[0]!, added[1]!])).not.toEqual(digest);
    expect(revealsDigest([added[0]!, added[1]!])).not.toEqual(revealsDigest([added[0]!, withdrawal, added[1]!]));
  });

  test("depends only on the reveals, not on the statements", () => {
    const sameReveal = { signed: maker.add(observer).signed, reveal: added[0]!.reveal };
    expect(revealsDigest([sameReveal, withdrawal, added[1]!])).toEqual(digest);
  });
});
