import type { Federation } from "../federation";
import { type CommitCertificate, type Evidence, type SignedVote, Vote } from "../gen/hashfed/v1/batch";
import { duplicateVote, verifyEvidence } from "./evidence";

/**
 * Evidence from two commit certificates for different batches at one height: every validator whose
 * precommit is in both, for the same round, signed two values there. Two quorums of one round
 * share at least f+1 validators, so a fork decided in one round names at least f+1 double signers.
 * A fork across rounds names nobody: plain Tendermint cannot tell who forgot its lock
 * (reference/consensus.md §1.4 erratum 10). Only pairs whose signatures verify are returned.
 * It runs on the event loop, on a certificate any peer can send: its work is bounded by the
 * number of validators.
 */
export function evidenceFromConflictingCertificates(federation: Federation, ours: CommitCertificate, theirs: CommitCertificate): Evidence[] {
  if (ours.height !== theirs.height || ours.round !== theirs.round || Buffer.from(ours.valueId).equals(Buffer.from(theirs.valueId))) return [];
  // A certificate holds one precommit per validator: one a peer padded with more (60,000 made-up
  // precommits took 41 s of the event loop to pair and check) is not looked at.
  if (theirs.precommits.length > federation.validators.length) return [];
  const theirsByValidator = new Map<string, SignedVote[]>();
  for (const signed of theirs.precommits) {
    const name = claimedSigner(signed.vote);
    if (name === undefined) continue;
    const same = theirsByValidator.get(name);
    if (same === undefined) theirsByValidator.set(name, [signed]);
    else same.push(signed);
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
