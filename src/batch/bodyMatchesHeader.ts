import { type Batch, BatchHeader } from "../gen/hashfed/v1/batch";
import { hashLeaf } from "../log/hasher";
import { encodeLogEntry, encodeReveal } from "../statements/canonicalStatement";
import { digestOfEncodedReveals } from "./assembleBatch";
import type { ChainHead } from "./chainHead";

/**
 * Whether a batch's entries and reveals are the ones its header commits to, after `head`: height and
 * previous header, entry count, tree size and root over the entries' leaves, and the reveals'
 * digest. Nothing about whether the entries are valid: a body that does not match was changed by
 * whoever sent it and says nothing about the batch its header names, so it must not count against
 * that batch. Pure.
 */
export function bodyMatchesHeader(head: ChainHead, batch: Batch): boolean {
  let header: BatchHeader;
  try {
    header = BatchHeader.decode(batch.header);
  } catch {
    return false;
  }
  const count = batch.entries.length;
  if (header.entryCount !== count || batch.reveals.length !== count) return false;
  if (header.height !== head.height + 1n || !head.headerHash.equals(header.previousHeaderHash)) return false;
  const range = head.range.clone();
  for (const entry of batch.entries) range.appendLeaf(hashLeaf(encodeLogEntry(entry.statement, entry.signature).entryBytes));
  const reveals = digestOfEncodedReveals(batch.reveals.map(encodeReveal));
  return range.size === header.treeSize && range.root().equals(header.root) && reveals.equals(header.revealsDigest);
}
