import type { Federation } from "../federation";
import { prefixRootFromInclusionProof, verifyConsistency } from "../log";
import { type ForkEvidence, forkEvidence, type PrefixProof, type ProvenFork, verifyForkEvidence } from "./forkEvidence";
import type { ObservedCheckpoint } from "./observedCheckpoint";

/**
 * How two verified checkpoints of one federation relate, decided from proofs the shell fetched:
 * one history (the smaller tree is a prefix of the larger, or they are equal), or a fork with its
 * evidence. A proof that fails to verify decides nothing: it shows that the node that sent it
 * misbehaved, not which history is true, so those functions throw the ProofError and leave the
 * caller to ask for something better.
 */
export type CheckpointRelation =
  | { readonly kind: "consistent" }
  | { readonly kind: "fork"; readonly evidence: ForkEvidence; readonly fork: ProvenFork };

const CONSISTENT: CheckpointRelation = { kind: "consistent" };

/** Checkpoints of equal size: one history iff their roots are equal; no proof needed either way. */
export function relateEqualSizes(federation: Federation, a: ObservedCheckpoint, b: ObservedCheckpoint): CheckpointRelation {
  if (a.verified.checkpoint.root.equals(b.verified.checkpoint.root)) return CONSISTENT;
  return fork(federation, forkEvidence(federation, a, b));
}

/**
 * Checks a consistency proof from the smaller checkpoint to the larger. Requires
 * 0 < older size < newer size; throws a ProofError when the proof does not verify.
 */
export function checkConsistencyProof(older: ObservedCheckpoint, newer: ObservedCheckpoint, proof: Buffer[]): void {
  const [first, second] = [older.verified.checkpoint, newer.verified.checkpoint];
  verifyConsistency(first.size, second.size, first.root, second.root, proof);
}

/**
 * Decides from an inclusion proof, in the larger tree, of the smaller tree's last leaf: the larger
 * tree's root at the smaller size either is the smaller checkpoint's root (one history) or is not
 * (a fork, and the proof is the evidence). Requires 0 < older size < newer size; throws a
 * ProofError when the proof does not verify against the larger checkpoint.
 */
export function relateByPrefixProof(federation: Federation, older: ObservedCheckpoint, newer: ObservedCheckpoint, proof: PrefixProof): CheckpointRelation {
  const [first, second] = [older.verified.checkpoint, newer.verified.checkpoint];
  const rootAtFirstSize = prefixRootFromInclusionProof(first.size, second.size, proof.leafHash, [...proof.hashes], second.root);
  if (rootAtFirstSize.equals(first.root)) return CONSISTENT;
  return fork(federation, forkEvidence(federation, older, newer, proof));
}

/** Evidence is verified as it is built, so what the auditor writes is what anyone can check. */
function fork(federation: Federation, evidence: ForkEvidence): CheckpointRelation {
  return { kind: "fork", evidence, fork: verifyForkEvidence(federation, evidence) };
}
