import { invalid } from "../errors";
import { type Federation, isValidator } from "../federation";
import { type Batch, BatchHeader } from "../gen/hashfed/v1/batch";
import type { LogEntry, Reveal } from "../gen/hashfed/v1/statement";
import type { LogState } from "../state/logState";
import {
  checkStatementReveal,
  checkStatementRules,
  parseSignedStatement,
  type SignedStatement,
  verifyStatementSignature,
} from "../statements";
import { type AssembledBatch, assembleBatch, type BatchEntry } from "./assembleBatch";
import type { ChainHead } from "./chainHead";

/** A batch holds 1 to batchEntriesMax entries: checked first, before anything is parsed or verified. */
export function checkEntryCount(federation: Federation, batch: Batch): void {
  const count = batch.entries.length;
  if (count === 0) throw invalid("BATCH_EMPTY", "a batch holds at least one entry");
  if (count > federation.parameters.batchEntriesMax) {
    throw invalid("BATCH_TOO_LARGE", `a batch holds at most ${federation.parameters.batchEntriesMax} entries, got ${count}`);
  }
}

/**
 * valid(v): whether a batch someone else built may follow `head`. Every entry parses, follows the
 * federation's rules, carries a valid signature (unless `signatureVerified` says it was checked at
 * gossip time) and a reveal that opens its commitment; the log rules hold in order; and the header
 * is exactly the one this node computes from the entries: height, previous hash, tree size, root,
 * reveals digest; the proposer it names is a validator (which bounds the header's size: a name
 * padded to fill a proposal made a batch too large for any sync answer). The proposer's time is its
 * own claim, informative only. Pure; throws a HashfedError saying what is wrong. `parseEntry` may return a
 * statement parsed before from the same bytes and signature (the replica's mempool holds most), and
 * `admittedWith` may say that such a statement passed all of a statement's checks (rules, signature,
 * reveal) with exactly this reveal when it was admitted: then only the log's rules are checked.
 */
export function checkBatch(
  federation: Federation,
  state: LogState,
  head: ChainHead,
  batch: Batch,
  signatureVerified: (signed: SignedStatement) => boolean,
  parseEntry: (logEntry: LogEntry) => SignedStatement = (logEntry) => parseSignedStatement(logEntry.statement, logEntry.signature),
  admittedWith: (signed: SignedStatement, reveal: Reveal) => boolean = () => false,
): AssembledBatch {
  let header: BatchHeader;
  try {
    header = BatchHeader.decode(batch.header);
  } catch (error) {
    throw invalid("BATCH_MALFORMED", `batch header is not a valid protobuf BatchHeader: ${(error as Error).message}`);
  }
  if (!isValidator(federation, header.proposer)) {
    throw invalid("BATCH_PROPOSER_UNKNOWN", `the batch header names ${JSON.stringify(header.proposer.slice(0, 64))} as its proposer, which is no validator of this federation`);
  }
  checkEntryCount(federation, batch);
  const count = batch.entries.length;
  if (batch.reveals.length !== count) {
    throw invalid("BATCH_MALFORMED", `a batch carries one reveal per entry: ${count} entries, ${batch.reveals.length} reveals`);
  }
  const draft = state.draft();
  const entries: BatchEntry[] = batch.entries.map((logEntry, i) => {
    const signed = parseEntry(logEntry);
    const reveal = batch.reveals[i]!;
    if (!admittedWith(signed, reveal)) {
      const member = checkStatementRules(federation, signed);
      if (!signatureVerified(signed)) verifyStatementSignature(member, signed);
      checkStatementReveal(signed, reveal);
    }
    draft.check(signed);
    return { signed, reveal: signed.statement.body!.$case === "addSignal" ? reveal : undefined };
  });
  const assembled = assembleBatch(federation, head, entries, { proposer: header.proposer, proposerTimeMs: header.proposerTimeMs });
  if (!assembled.headerBytes.equals(Buffer.from(batch.header))) {
    throw invalid("BATCH_HEADER_MISMATCH", describeHeaderMismatch(header, assembled.header));
  }
  return assembled;
}

function describeHeaderMismatch(got: BatchHeader, want: BatchHeader): string {
  const text = (value: unknown): string => (value instanceof Uint8Array ? Buffer.from(value).toString("hex") : String(value));
  const fields = (Object.keys(want) as (keyof BatchHeader)[]).filter((field) => text(got[field]) !== text(want[field]));
  const named = fields.length > 0 ? fields.join(", ") : "encoding";
  return `the batch header does not match its entries and the log this node holds (differs in: ${named})`;
}
