import type { BatchEntry } from "../batch";
import { SIGNATURE_BYTES } from "../crypto";
import { invalid } from "../errors";
import { BatchHeader } from "../gen/hashfed/v1/batch";
import type { BatchReference } from "../gen/hashfed/v1/peer";
import { STATEMENT_ID_BYTES, type StatementId } from "../statements";

/** Bytes per entry in a reference: the statement id, then the statement's signature. */
export const ENTRY_REFERENCE_BYTES = STATEMENT_ID_BYTES + SIGNATURE_BYTES;

/**
 * The longest encoded header a batch can have: every field is bounded (the proposer's name, the
 * longest, at 253 bytes), about 450 bytes in all.
 */
const HEADER_BYTES_MAX = 1024;

/** Whether a reference is no larger than one of a batch of this federation can be: what a replica keeps for later is. */
export function referenceFits(reference: BatchReference, entriesMax: number): boolean {
  return reference.header.length <= HEADER_BYTES_MAX && reference.entries.length <= entriesMax * ENTRY_REFERENCE_BYTES;
}

/** Whether a batch header names `proposer` as the batch's proposer; false for bytes that do not decode. */
export function headerNamesProposer(header: Uint8Array, proposer: string): boolean {
  try {
    return BatchHeader.decode(header).proposer === proposer;
  } catch {
    return false;
  }
}

/**
 * A batch named by its header and, per entry, its statement's id and signature. The signature is
 * part of the name because one statement can carry two valid signatures (a signer may randomize
 * them), and a batch of the other one would have another Merkle leaf and root.
 */
export function referenceOf(headerBytes: Buffer, entries: readonly BatchEntry[]): BatchReference {
  const bytes = Buffer.allocUnsafe(entries.length * ENTRY_REFERENCE_BYTES);
  entries.forEach(({ signed }, i) => {
    const at = i * ENTRY_REFERENCE_BYTES;
    signed.id.copy(bytes, at);
    signed.signature.copy(bytes, at + STATEMENT_ID_BYTES);
  });
  return { header: headerBytes, entries: bytes };
}

/**
 * The entries a reference names, each found by `lookup`, in order; undefined as soon as one is not
 * found. Throws BATCH_REFERENCE_MALFORMED for a reference that cannot name a batch of this federation.
 */
export function resolveReference(
  reference: BatchReference,
  entriesMax: number,
  lookup: (id: StatementId, signature: Buffer) => BatchEntry | undefined,
): BatchEntry[] | undefined {
  const bytes = reference.entries;
  const count = bytes.length / ENTRY_REFERENCE_BYTES;
  if (!Number.isInteger(count)) {
    throw invalid("BATCH_REFERENCE_MALFORMED", `a batch reference holds ${ENTRY_REFERENCE_BYTES} bytes per entry, got ${bytes.length} bytes`);
  }
  if (count === 0 || count > entriesMax) {
    throw invalid("BATCH_REFERENCE_MALFORMED", `a batch reference names 1 to ${entriesMax} entries, got ${count}`);
  }
  const entries: BatchEntry[] = [];
  for (let at = 0; at < bytes.length; at += ENTRY_REFERENCE_BYTES) {
    const id = bytes.subarray(at, at + STATEMENT_ID_BYTES) as StatementId;
    const entry = lookup(id, bytes.subarray(at + STATEMENT_ID_BYTES, at + ENTRY_REFERENCE_BYTES));
    if (entry === undefined) return undefined;
    entries.push(entry);
  }
  return entries;
}
