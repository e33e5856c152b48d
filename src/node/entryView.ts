import type { EntryView } from "../gen/hashfed/v1/member";
import { LogEntry } from "../gen/hashfed/v1/statement";
import { parseStoredLogEntry } from "../statements";
import type { StoredEntry } from "../store";
import type { Ledger } from "../ledger/ledger";

/** A committed entry as the Member service shows it: the signed bytes, decoded, with its reveal. */
export async function entryView(ledger: Ledger, stored: StoredEntry): Promise<EntryView> {
  const signed = parseStoredLogEntry(stored.entryBytes);
  const retractionIndex = ledger.state.retractedBy(Number(stored.index));
  let retractedBy: Buffer = Buffer.alloc(0);
  if (retractionIndex !== undefined) {
    const retraction = await ledger.store.readEntry(BigInt(retractionIndex));
    retractedBy = parseStoredLogEntry(retraction!.entryBytes).id;
  }
  return {
    logIndex: stored.index,
    statementId: signed.id,
    entry: LogEntry.decode(stored.entryBytes),
    reveal: stored.reveal,
    statement: signed.statement,
    retractedBy,
  };
}
