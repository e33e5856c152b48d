import { locate } from "../errors";
import type { Federation } from "../federation";
import { hashLeaf } from "../log";
import { checkStatementRules, parseLogEntryLeaf, type SignedStatement, verifyStatementSignature } from "../statements";
import type { VerifiedCheckpoint } from "./cosignedCheckpoint";
import { checkEntryInclusion, type ServedInclusionProof } from "./entryInclusion";

/**
 * Sampling instead of replaying: a few entries, each checked on its own against the accepted
 * checkpoint with an inclusion proof, its statement parsed, its submitter a member, its signature
 * and the statement rules checked. Cheap enough for every run of a monitor; the full replay is what
 * proves the whole log.
 */

/**
 * Up to `count` distinct indexes below `size`, sorted: the last entry, the first entry not audited
 * before (at `previousSize`, when the log grew), and the rest drawn by `draw(bound)`, which returns
 * a uniform index below `bound`. Every index when `count` covers the log.
 */
export function chooseSamples(size: bigint, previousSize: bigint, count: number, draw: (bound: bigint) => bigint): bigint[] {
  if (BigInt(count) >= size) return Array.from({ length: Number(size) }, (_, index) => BigInt(index));
  const chosen = new Set<bigint>();
  if (count > 0) chosen.add(size - 1n);
  if (chosen.size < count && previousSize < size) chosen.add(previousSize);
  while (chosen.size < count) chosen.add(draw(size));
  return [...chosen].sort((a, b) => (a < b ? -1 : 1));
}

/**
 * Checks one sampled entry fully; throws a HashfedError naming the entry. The leaf is proven part of
 * the checkpoint's tree first, so that a broken rule afterwards is known to be one the validators
 * committed, not one the node made up. Returns the statement.
 */
export function checkSampledEntry(
  federation: Federation,
  checkpoint: VerifiedCheckpoint,
  index: bigint,
  leaf: Buffer,
  proof: ServedInclusionProof,
  source: string,
): SignedStatement {
  checkEntryInclusion(index, hashLeaf(leaf), proof, checkpoint, source);
  try {
    const signed = parseLogEntryLeaf(leaf);
    verifyStatementSignature(checkStatementRules(federation, signed), signed);
    return signed;
  } catch (error) {
    throw locate(`entry ${index}, committed under the checkpoint of size ${checkpoint.checkpoint.size} (shown by an inclusion proof)`, error);
  }
}
