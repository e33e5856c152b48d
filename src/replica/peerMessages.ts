import { invalid } from "../errors";
import type { AssembledBatch } from "../batch";
import { type Batch, BatchHeader } from "../gen/hashfed/v1/batch";
import { PeerMessage, type SyncedBatch } from "../gen/hashfed/v1/peer";
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
 * The bytes a sync answer's batches take encoded as a SyncResponse, computed from what they carry as
 * decoded without encoding them again (about 65 ms for 4.5 MB): fields a decoder skips, with which
 * a peer could pad an answer to look full, do not count. Every field number here is below 16, so a
 * tag is one byte; proto3 leaves out empty scalars, but not elements of repeated messages.
 */
export function syncAnswerContentBytes(batches: readonly SyncedBatch[]): number {
  return batches.reduce((bytes, batch) => bytes + syncedBatchBytes(batch), 0);
}

/** A batch's bytes in an answer, its field's tag and length included (see syncAnswerContentBytes). */
function syncedBatchBytes({ batch, certificate }: SyncedBatch): number {
  let synced = 0;
  if (batch !== undefined) {
    let body = bytesField(batch.header.length);
    for (const entry of batch.entries) body += messageField(bytesField(entry.statement.length) + bytesField(entry.signature.length));
    for (const reveal of batch.reveals) body += messageField(bytesField(reveal.salt.length) + bytesField(reveal.value.length));
    synced += messageField(body);
  }
  if (certificate !== undefined) {
    let body = varintField(certificate.height) + varintField(BigInt(certificate.round)) + bytesField(certificate.valueId.length);
    for (const precommit of certificate.precommits) body += messageField(bytesField(precommit.vote.length) + bytesField(precommit.signature.length));
    synced += messageField(body);
  }
  return messageField(synced);
}

/** A bytes field of `length` bytes: left out when empty. */
function bytesField(length: number): number {
  return length === 0 ? 0 : messageField(length);
}

/** A length-delimited field, always written (a message, or an element of a repeated one). */
function messageField(length: number): number {
  return 1 + varintBytes(BigInt(length)) + length;
}

/** A varint field: left out when zero. */
function varintField(value: bigint): number {
  return value === 0n ? 0 : 1 + varintBytes(value);
}

function varintBytes(value: bigint): number {
  let bytes = 1;
  for (let rest = value >> 7n; rest > 0n; rest >>= 7n) bytes++;
  return bytes;
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
