import type { Federation } from "../federation";
import { type CommitCertificate, type Evidence, type SignedVote, Vote } from "../gen/hashfed/v1/batch";
import { duplicateVote, verifyEvidence } from "./evidence";

/**
 * Evidence from two commit certificates for different batches at one height: every validator whose
 * precommit is in both, for the same round, signed two values there. Two quorums of one round
 * share at least f+1 validators, so a fork decided in one round names at least f+1 double signers.
 * A fork across rounds names nobody: plain Tendermint cannot tell who forgot its lock
 * (reference/consensus.md §1.4 erratum 10). Only pairs whose signatures verify are returned.
 */
export function evidenceFromConflictingCertificates(federation: Federation, ours: CommitCertificate, theirs: CommitCertificate): Evidence[] {
  if (ours.height !== theirs.height || ours.round !== theirs.round || Buffer.from(ours.valueId).equals(Buffer.from(theirs.valueId))) return [];
  const theirsByValidator = new Map<string, SignedVote[]>();
  for (const signed of theirs.precommits) {
    const name = claimedSigner(signed.vote);
    if (name !== undefined) theirsByValidator.set(name, [...(theirsByValidator.get(name) ?? []), signed]);
  }
  const found: Evidence[] = [];
  for (const first of ours.precommits) {
    for (const second of theirsByValidator.get(claimedSigner(first.vote) ?? "") ?? []) {
      const evidence = duplicateVote(first, second);
      try {
        verifyEvidence(federation, evidence);
      } catch {
        continue; // a signature that does not verify proves nothing
      }
      found.push(evidence);
    }
  }
  return found;
}

/** The validator a vote names, unverified: only to pair the two certificates' votes before checking them. */
function claimedSigner(voteBytes: Uint8Array): string | undefined {
  try {
    return Vote.decode(voteBytes).validator;
  } catch {
    return undefined;
  }
}
