import { invalid } from "../errors";
import type { AssembledBatch } from "../batch";
import { type Batch, BatchHeader } from "../gen/hashfed/v1/batch";
import { PeerMessage, SyncedBatch } from "../gen/hashfed/v1/peer";
import { LogEntry } from "../gen/hashfed/v1/statement";
import type { LogStore } from "../store";

/** The largest message a replica decodes; anything bigger is dropped unread. */
export const PEER_MESSAGE_BYTES_MAX = 16 * 1024 * 1024;

export function encodePeerMessage(message: PeerMessage): Buffer {
  return Buffer.from(PeerMessage.encode(message).finish());
}

export function decodePeerMessage(bytes: Uint8Array): PeerMessage {
  if (bytes.length > PEER_MESSAGE_BYTES_MAX) throw invalid("PEER_MESSAGE_TOO_LARGE", `a peer message is at most ${PEER_MESSAGE_BYTES_MAX} bytes`);
  let message: PeerMessage;
  try {
    message = PeerMessage.decode(bytes);
  } catch (error) {
    throw invalid("PEER_MESSAGE_MALFORMED", `not a PeerMessage: ${(error as Error).message}`);
  }
  if (message.kind === undefined) throw invalid("PEER_MESSAGE_MALFORMED", "a peer message has a kind");
  return message;
}

/**
 * Bytes a PeerMessage and its PeerFrame add around their contents: field tags and length prefixes,
 * and the link's sealing (24 bytes: see src/peer/linkCipher.ts). Generous (about 34 in all); what
 * counts is that an answer built to fit in messageBytesMax, less this, does.
 */
const MESSAGE_FRAMING_BYTES = 64;

/**
 * Which of `batches` (in order, the first always) fit one sync answer of at most `messageBytesMax`
 * bytes, the gRPC limit of every peer link: a bigger answer breaks the link it is sent on, and a
 * node far behind would be sent it again by every peer and never catch up.
 */
export function syncAnswerFitting(batches: readonly SyncedBatch[], messageBytesMax: number): SyncedBatch[] {
  let bytes = MESSAGE_FRAMING_BYTES;
  const fitting: SyncedBatch[] = [];
  for (const batch of batches) {
    bytes += syncedBatchBytes(batch);
    if (fitting.length > 0 && bytes > messageBytesMax) break;
    fitting.push(batch);
  }
  return fitting;
}

/**
 * About the bytes of a sync answer's batches, counted from what they carry as decoded (headers,
 * entries, reveals, certificates): fields a decoder skips, with which a peer could pad an answer to
 * look full, do not count, and nothing is encoded again (about 65 ms for 4.5 MB).
 */
export function syncAnswerContentBytes(batches: readonly SyncedBatch[]): number {
  let bytes = 0;
  for (const { batch, certificate } of batches) {
    if (batch !== undefined) {
      bytes += batch.header.length;
      for (const entry of batch.entries) bytes += entry.statement.length + entry.signature.length;
      for (const reveal of batch.reveals) bytes += reveal.salt.length + reveal.value.length;
    }
    for (const precommit of certificate?.precommits ?? []) bytes += precommit.vote.length + precommit.signature.length;
  }
  return bytes;
}

/** A batch's own bytes in an answer, with its field's tag and its length (at most five bytes). */
function syncedBatchBytes(batch: SyncedBatch): number {
  return SyncedBatch.encode(batch).finish().length + 6;
}

const NO_REVEAL = { salt: Buffer.alloc(0), value: Buffer.alloc(0) };

/** A batch as it travels: header bytes, entries, and one reveal per entry (empty for a retraction). */
export function wireBatch(batch: Pick<AssembledBatch, "headerBytes" | "entries">): Batch {
  return {
    header: batch.headerBytes,
    entries: batch.entries.map(({ signed }) => ({ statement: signed.bytes, signature: signed.signature })),
    reveals: batch.entries.map((entry) => entry.reveal ?? NO_REVEAL),
  };
}

/**
 * A committed height as a peer that is behind asks for it: the batch, entries and reveals, and its
 * certificate; with `reveals: false`, as the Log service serves it, without reading the reveals.
 */
export async function readSyncedBatch(store: LogStore, height: bigint, { reveals = true } = {}): Promise<SyncedBatch | undefined> {
  const committed = await store.readBatch(height);
  if (committed === undefined) return undefined;
  const header = BatchHeader.decode(committed.header);
  const first = header.treeSize - BigInt(header.entryCount);
  const stored = await store.readEntries(first, header.treeSize, reveals);
  return {
    batch: {
      header: committed.header,
      entries: stored.map((entry) => LogEntry.decode(entry.entryBytes)),
      reveals: reveals ? stored.map((entry) => entry.reveal ?? NO_REVEAL) : [],
    },
    certificate: committed.certificate,
  };
}
