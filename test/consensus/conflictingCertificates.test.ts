import { buildBatch, genesisHead, type AssembledBatch } from "../../src/batch";
import { evidenceFromConflictingCertificates, verifyEvidence } from "../../src/consensus";
import { LogState } from "../../src/state/logState";
import { certificateFor, federationFixture, precommitsBy, StatementMaker } from "../support/statements";

/**
 * Goal: when more than f validators fork the log in one round, the two commit certificates name
 * every validator that precommitted both batches, with evidence that verifies on its own; a fork
 * across rounds, or two certificates for the same batch, name nobody.
 * Method: a four-validator federation; two batches at height 1; certificates from overlapping
 * groups of validators; each piece of evidence checked with verifyEvidence.
 */

const fixture = federationFixture({ validatorCount: 4, label: "fork" });
const { federation, validators } = fixture;
const [a, b, c, d] = validators as [(typeof validators)[0], (typeof validators)[0], (typeof validators)[0], (typeof validators)[0]];

function batchWith(label: string): AssembledBatch {
  const maker = new StatementMaker(federation, label);
  return buildBatch(federation, new LogState(), genesisHead(), [maker.add(a.key)], { proposer: a.name, proposerTimeMs: 1n }).batch!;
}

const left = batchWith("left");
const right = batchWith("right");

test("a fork in one round names exactly the validators in both certificates", () => {
  const ours = certificateFor(left, precommitsBy(federation, [a, c, d], left));
  const theirs = certificateFor(right, precommitsBy(federation, [b, c, d], right));
  const evidence = evidenceFromConflictingCertificates(federation, ours, theirs);
  const named = evidence.map((piece) => verifyEvidence(federation, piece));
  expect(named.map((equivocation) => equivocation.validator).sort()).toEqual([c.name, d.name]);
  expect(named.every((equivocation) => equivocation.height === 1n && equivocation.round === 0 && equivocation.kind === "precommit")).toBe(true);
});

test("a fork across rounds, or the same batch twice, names nobody", () => {
  const ours = certificateFor(left, precommitsBy(federation, [a, c, d], left));
  expect(evidenceFromConflictingCertificates(federation, ours, certificateFor(right, precommitsBy(federation, [b, c, d], right, 1), 1))).toEqual([]);
  expect(evidenceFromConflictingCertificates(federation, ours, certificateFor(left, precommitsBy(federation, [a, b, c], left)))).toEqual([]);
});

test("a forged precommit in the other certificate proves nothing against its validator", () => {
  const ours = certificateFor(left, precommitsBy(federation, [a, c, d], left));
  const forged = precommitsBy(federation, [b, c, d], right).map((precommit, i) => (i === 1 ? { ...precommit, signature: Buffer.alloc(64, 7) } : precommit));
  const named = evidenceFromConflictingCertificates(federation, ours, certificateFor(right, forged)).map((piece) => verifyEvidence(federation, piece).validator);
  expect(named).toEqual([d.name]);
});

test("a certificate padded beyond one precommit per validator is not looked at (it cost the event loop seconds to pair)", () => {
  const ours = certificateFor(left, precommitsBy(federation, [a, c, d], left));
  const genuine = precommitsBy(federation, [b, c, d], right);
  expect(evidenceFromConflictingCertificates(federation, ours, certificateFor(right, genuine))).toHaveLength(2);
  const padded = [...genuine, ...Array.from({ length: 2 }, () => ({ ...genuine[0]!, signature: Buffer.alloc(64) }))];
  expect(evidenceFromConflictingCertificates(federation, ours, certificateFor(right, padded))).toEqual([]);
});
