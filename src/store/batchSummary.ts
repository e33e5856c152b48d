import { assert } from "../assert";
import type { AssembledBatch } from "../batch";
import { BatchSummary } from "../gen/hashfed/v1/store";
import type { SignalTypeName } from "../signals";

/** The tree levels kept in memory (see TreeReader); a summary carries the nodes they gain. */
export const IN_MEMORY_LEVEL_MIN = 2;

/** One byte per entry in a summary: the signal type of an AddSignal, or a retraction. */
export const SIGNAL_KINDS: readonly SignalTypeName[] = ["pdq", "md5", "sha256"];
export const RETRACTION_KIND = 0xff;

/**
 * The summary of a batch about to be committed. `retractionTargets` gives, per retraction in
 * order, the log index of the entry it withdraws (the caller's state knows it).
 */
export function summarizeBatch(batch: AssembledBatch, retractionTargets: readonly number[]): BatchSummary {
  const submitterNames: string[] = [];
  const submitters: number[] = [];
  const kinds = Buffer.alloc(batch.entries.length);
  const values: Uint8Array[] = [];
  batch.entries.forEach((entry, i) => {
    const name = entry.signed.statement.submitter;
    let number = submitterNames.indexOf(name);
    if (number < 0) number = submitterNames.push(name) - 1;
    submitters.push(number);
    const body = entry.signed.statement.body!;
    if (body.$case === "retract") {
      kinds[i] = RETRACTION_KIND;
      return;
    }
    kinds[i] = SIGNAL_KINDS.indexOf(body.value.signalType as SignalTypeName);
    values.push(entry.reveal!.value);
  });
  const upper = batch.nodeWrites
    .filter((node) => node.level >= IN_MEMORY_LEVEL_MIN)
    .sort((a, b) => a.level - b.level || (a.index < b.index ? -1 : 1));
  return {
    statementIds: Buffer.concat(batch.entries.map((entry) => entry.signed.id)),
    submitterNames,
    submitters,
    kinds,
    values: Buffer.concat(values),
    retractionTargets: retractionTargets.map(BigInt),
    upperNodeHashes: Buffer.concat(upper.map((node) => node.hash)),
  };
}

/**
 * The perfect nodes at `level` completed by appending leaves [start, end): indexes
 * floor(start / 2^level) up to floor(end / 2^level) - 1, the nodes whose last leaf is in the range.
 */
export function completedNodeRange(level: number, start: bigint, end: bigint): { first: bigint; count: number } {
  const shift = BigInt(level);
  const first = start >> shift;
  const count = (end >> shift) - first;
  assert(count >= 0n, "a range of leaves completes a non-negative number of nodes");
  return { first, count: Number(count) };
}
