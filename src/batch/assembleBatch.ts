import { createHash } from "node:crypto";
import type { Federation } from "../federation";
import { BatchHeader } from "../gen/hashfed/v1/batch";
import type { Reveal } from "../gen/hashfed/v1/statement";
import { type Checkpoint, formatCheckpoint } from "../log/checkpoint";
import type { CompactRange, NodeWrite } from "../log/compactRange";
import { hashLeaf } from "../log/hasher";
import { encodeReveal, type SignedStatement } from "../statements";
import type { ChainHead } from "./chainHead";

export interface BatchEntry {
  readonly signed: SignedStatement;
  /** Present for an AddSignal; undefined for a retraction. */
  readonly reveal: Reveal | undefined;
}

/** A batch with everything derived from it: the value consensus decides, ready to commit. */
export interface AssembledBatch {
  /** SHA-256 of headerBytes: id(v). */
  readonly id: Buffer;
  readonly headerBytes: Buffer;
  readonly header: BatchHeader;
  readonly entries: readonly BatchEntry[];
  /** The tree's right edge after the batch. */
  readonly range: CompactRange;
  /** Every perfect subtree the batch completes, to store so that proofs need O(log n) reads. */
  readonly nodeWrites: readonly NodeWrite[];
  /** Each entry's Reveal as encoded for the header's digest (empty for a retraction), which the store then writes as it is. */
  readonly revealBytes: readonly Uint8Array[];
  /** The checkpoint the batch produces; validators cosign it in their precommits. */
  readonly checkpoint: Checkpoint;
  readonly checkpointBody: string;
}

export interface BatchMeta {
  readonly proposer: string;
  readonly proposerTimeMs: bigint;
}

/** SHA-256 over each entry's encoded Reveal (empty for a retraction), each prefixed with its length as a u32be. */
export function revealsDigest(entries: readonly BatchEntry[]): Buffer {
  return digestOfEncodedReveals(encodeReveals(entries));
}

function encodeReveals(entries: readonly BatchEntry[]): Uint8Array[] {
  return entries.map((entry) => (entry.reveal === undefined ? new Uint8Array(0) : encodeReveal(entry.reveal)));
}

export function digestOfEncodedReveals(encoded: readonly Uint8Array[]): Buffer {
  const digest = createHash("sha256");
  const length = Buffer.alloc(4);
  for (const bytes of encoded) {
    length.writeUInt32BE(bytes.length);
    digest.update(length).update(bytes);
  }
  return digest.digest();
}

/** Appends the entries' leaves to the head's tree and writes the header. Pure. */
/** A batch's id: the SHA-256 of its header's exact bytes, which proposals, votes and certificates name. */
export function batchIdOf(headerBytes: Uint8Array): Buffer {
  return createHash("sha256").update(headerBytes).digest();
}

export function assembleBatch(federation: Federation, head: ChainHead, entries: readonly BatchEntry[], meta: BatchMeta): AssembledBatch {
  const range = head.range.clone();
  const nodeWrites: NodeWrite[] = [];
  for (const entry of entries) nodeWrites.push(...range.append(hashLeaf(entry.signed.entryBytes)));
  const revealBytes = encodeReveals(entries);
  const header: BatchHeader = {
    federationId: federation.id,
    height: head.height + 1n,
    previousHeaderHash: head.headerHash,
    treeSize: range.size,
    root: range.root(),
    revealsDigest: digestOfEncodedReveals(revealBytes),
    proposerTimeMs: meta.proposerTimeMs,
    proposer: meta.proposer,
    entryCount: entries.length,
  };
  const headerBytes = Buffer.from(BatchHeader.encode(header).finish());
  const checkpoint = { origin: federation.origin, size: range.size, root: range.root(), extensions: [] };
  return {
    id: batchIdOf(headerBytes),
    headerBytes,
    header,
    entries,
    range,
    nodeWrites,
    revealBytes,
    checkpoint,
    checkpointBody: formatCheckpoint(checkpoint),
  };
}
