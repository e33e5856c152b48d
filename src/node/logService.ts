import { HashfedError, invalid } from "../errors";
import type { LogServer } from "../gen/hashfed/v1/log";
import { LogEntry } from "../gen/hashfed/v1/statement";
import { hashLeaf } from "../log/hasher";
import type { ServerUnaryCall } from "@grpc/grpc-js";
import { abandonment, remoteAddress, type ErrorReporter, unary } from "./grpcHandlers";
import type { Evidence } from "../gen/hashfed/v1/batch";
import type { Ledger } from "../ledger/ledger";
import { readSyncedBatch } from "../replica/peerMessages";
import { type MeteredCall, ServedEntriesBudget } from "./servedEntriesBudget";

/** At most this many entries per GetEntries call. */
export const ENTRIES_PER_CALL_MAX = 1000n;
/**
 * At most this many pieces of evidence per GetEvidence call (about 300 KB): a member that goes on
 * equivocating adds a piece per height and round, and the whole list would outgrow a message.
 */
export const EVIDENCE_PER_CALL_MAX = 1000;

/** Entries the Log service serves a second, node-wide (see ServedEntriesBudget): a full audit reads 10,000-13,400. */
export const LOG_ENTRIES_PER_SECOND_MAX = 20_000;
/** Log calls waiting for their turn, node-wide; beyond, LOG_BUSY at once. */
export const LOG_CALLS_WAITING_MAX = 256;
/** Of them, from one network address. */
export const LOG_CALLS_WAITING_PER_CALLER_MAX = 32;

/**
 * The Log service: read-only, safe for auditors; nothing here discloses a hash. What a call reads
 * and encodes (entries, a batch's entries, pieces of evidence, a proof as one) is metered by
 * `budget`, so that its callers, whoever they are, cannot take the CPU consensus needs.
 */
export function logService(
  ledger: Ledger,
  evidence: { readonly evidence: readonly Evidence[] },
  report: ErrorReporter,
  budget: ServedEntriesBudget,
): LogServer {
  const metered = (call: ServerUnaryCall<unknown, unknown>): MeteredCall => ({ caller: remoteAddress(call), abandoned: abandonment(call) });
  return {
    getCheckpoint: unary("GetCheckpoint", report, async () => {
      if (ledger.checkpoint === undefined) throw new HashfedError("not-found", "LOG_EMPTY", "the log is empty: nothing has been committed yet");
      return { checkpoint: ledger.checkpoint };
    }),
    getEntries: unary("GetEntries", report, async ({ start, end }, call) => {
      if (start >= end) throw invalid("RANGE_EMPTY", `start (${start}) must be below end (${end})`);
      if (end - start > ENTRIES_PER_CALL_MAX) throw invalid("RANGE_TOO_LARGE", `at most ${ENTRIES_PER_CALL_MAX} entries per call, asked for ${end - start}`);
      checkWithinLog(ledger, end, "end");
      return budget.metered(
        Number(end - start),
        metered(call),
        async () => ({ entries: (await ledger.store.readEntries(start, end, false)).map((entry) => LogEntry.decode(entry.entryBytes)) }),
        ({ entries }) => entries.length,
      );
    }),
    getInclusionProof: unary("GetInclusionProof", report, async ({ index, treeSize }, call) => {
      const size = treeSize === 0n ? ledger.treeSize : treeSize;
      checkWithinLog(ledger, size, "tree_size");
      if (index >= size) throw new HashfedError("out-of-range", "INDEX_OUT_OF_RANGE", `index ${index} is beyond tree size ${size}`);
      return budget.metered(
        1,
        metered(call),
        async () => {
          const stored = await ledger.store.readEntry(index);
          return { proof: await ledger.tree.inclusionProof(index, size), leafHash: hashLeaf(stored!.entryBytes), treeSize: size };
        },
        () => 1,
      );
    }),
    getConsistencyProof: unary("GetConsistencyProof", report, async ({ first, second }, call) => {
      if (first === 0n) throw invalid("SIZE_ZERO", "first must be at least 1: every tree is consistent with the empty tree, no proof needed");
      if (first > second) throw invalid("SIZE_ORDER", `first (${first}) must not exceed second (${second})`);
      checkWithinLog(ledger, second, "second");
      return budget.metered(1, metered(call), async () => ({ proof: await ledger.tree.consistencyProof(first, second), leafHash: Buffer.alloc(0), treeSize: second }), () => 1);
    }),
    getFederation: unary("GetFederation", report, async () => ({ federationJson: ledger.federation.text, federationId: ledger.federation.id })),
    getBatch: unary("GetBatch", report, async ({ height }, call) => {
      if (height === 0n || height > ledger.head.height) {
        throw new HashfedError("out-of-range", "HEIGHT_OUT_OF_RANGE", `batches are numbered from 1 to the log's height ${ledger.head.height}, asked for ${height}`);
      }
      return budget.metered(
        ledger.federation.parameters.batchEntriesMax,
        metered(call),
        async () => {
          // Without reveals: the Log service never discloses a hash, so they are not even read.
          const synced = await readSyncedBatch(ledger.store, height, { reveals: false });
          return { header: synced!.batch!.header, entries: synced!.batch!.entries, certificate: synced!.certificate };
        },
        ({ entries }) => entries.length,
      );
    }),
    getEvidence: unary("GetEvidence", report, async ({ start }, call) => {
      const total = BigInt(evidence.evidence.length);
      if (start > total) throw new HashfedError("out-of-range", "EVIDENCE_OUT_OF_RANGE", `this node holds ${total} pieces of evidence, asked from ${start}`);
      const pieces = evidence.evidence.slice(Number(start), Number(start) + EVIDENCE_PER_CALL_MAX);
      return budget.metered(pieces.length, metered(call), async () => ({ evidence: pieces, total }), () => pieces.length);
    }),
  };
}

function checkWithinLog(ledger: Ledger, size: bigint, field: string): void {
  if (size > ledger.treeSize) {
    throw new HashfedError("out-of-range", "SIZE_OUT_OF_RANGE", `${field} ${size} is beyond the log's size ${ledger.treeSize}`);
  }
}
