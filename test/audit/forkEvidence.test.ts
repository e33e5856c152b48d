import { checkForkEvidenceFile, type ForkEvidence, forkEvidence, formatForkEvidence, type ObservedCheckpoint, verifyCosignedCheckpoint, verifyForkEvidence } from "../../src/audit";
import { hashLeaf } from "../../src/log";
import { flipBit } from "../crypto/testBytes";
import { ReferenceTree } from "../log/referenceTree";
import { thrown } from "../log/thrown";
import { cosign } from "../support/fakeLogNode";
import { federationFixture } from "../support/statements";
import { alpha, bravo, charlie, delta, fixture } from "./auditRounds";

/**
 * Goal: fork evidence proves a fork to anyone holding the federation file, and nothing else: two
 * quorum-cosigned checkpoints of one size with different roots, or of different sizes where the
 * larger tree's root at the smaller size (from an inclusion proof) is not the smaller's root; it
 * names exactly the validators that signed both. Evidence of no conflict, a broken proof, a
 * checkpoint short of quorum or a file whose claims differ from its proof are refused.
 * Method: checkpoints cosigned with the fixture's keys over two reference trees.
 */

const treeOf = (label: string, size: number): ReferenceTree =>
  new ReferenceTree(Array.from({ length: size }, (_, index) => hashLeaf(Buffer.from(`${label} ${index}`))));
const left = treeOf("left", 16);
const right = treeOf("right", 16);

function observed(tree: ReferenceTree, size: number, signers = [alpha, bravo, charlie], source = "127.0.0.1:1"): ObservedCheckpoint {
  const note = cosign(fixture, size, tree.hash(0, size), signers);
  return { verified: verifyCosignedCheckpoint(fixture.federation, note), source, observedAt: "2026-01-01T00:00:00.000Z" };
}

function prefixProof(tree: ReferenceTree, firstSize: number, secondSize: number) {
  return { leafHash: tree.leafHashes[firstSize - 1]!, hashes: tree.path(firstSize - 1, 0, secondSize) };
}

test("same size, different roots: the two notes prove a fork, and the validators on both are named", () => {
  const evidence = forkEvidence(fixture.federation, observed(left, 8, [alpha, bravo, charlie]), observed(right, 8, [bravo, charlie, delta]));
  const proven = verifyForkEvidence(fixture.federation, evidence);
  expect(proven).toMatchObject({ kind: "same-size", doubleSigners: ["bravo.example", "charlie.example"] });
  expect(checkForkEvidenceFile(fixture.federation, formatForkEvidence(fixture.federation, evidence))).toEqual(proven);
});

test("different sizes: the larger tree's root at the smaller size, read off an inclusion proof, differs from the smaller checkpoint's root", () => {
  const evidence = forkEvidence(fixture.federation, observed(right, 11, [alpha, bravo, charlie, delta]), observed(left, 5), prefixProof(right, 5, 11));
  expect(evidence.first.note).toContain("\n5\n");
  const proven = verifyForkEvidence(fixture.federation, evidence);
  expect(proven.kind).toBe("not-a-prefix");
  expect(proven.secondRootAtFirstSize).toEqual(right.hash(0, 5));
  expect(proven.doubleSigners).toEqual(["alpha.example", "bravo.example", "charlie.example"]);
  const file = formatForkEvidence(fixture.federation, evidence);
  expect(JSON.parse(file)).toMatchObject({ format: "hashfed-fork-evidence/v1", conflict: "not-a-prefix", prefixProof: { leafIndex: "4" } });
  expect(checkForkEvidenceFile(fixture.federation, file)).toEqual(proven);
});

test("evidence that shows no conflict, or cannot show one, is refused", () => {
  const sameSize = forkEvidence(fixture.federation, observed(left, 8), observed(right, 8));
  const shortOfQuorum = { ...sameSize, first: { ...sameSize.first, note: cosign(fixture, 8, left.hash(0, 8), [alpha, bravo]) } };
  const refusals: Array<[string, ForkEvidence, string, RegExp]> = [
    ["equal checkpoints", forkEvidence(fixture.federation, observed(left, 8), observed(left, 8, [delta, alpha, bravo])), "EVIDENCE_NOT_CONFLICTING", /both checkpoints are of size 8/],
    ["a proven extension", forkEvidence(fixture.federation, observed(left, 5), observed(left, 11), prefixProof(left, 5, 11)), "EVIDENCE_NOT_CONFLICTING", /the tree of size 11 has the first checkpoint's root at size 5: it extends it/],
    ["a broken proof", forkEvidence(fixture.federation, observed(left, 5), observed(right, 11), { ...prefixProof(right, 5, 11), leafHash: flipBit(right.leafHashes[4]!, 0) }), "EVIDENCE_PROOF_INVALID", /the prefix proof \(entry 4 in the tree of size 11\) does not verify/],
    ["no proof for different sizes", forkEvidence(fixture.federation, observed(left, 5), observed(right, 11)), "EVIDENCE_MALFORMED", /need a prefix proof/],
    ["a checkpoint short of quorum", shortOfQuorum, "CHECKPOINT_SHORT_OF_QUORUM", /^the first checkpoint: the checkpoint carries valid signatures from 2 of 4 validators/],
  ];
  for (const [name, evidence, code, message] of refusals) {
    const error = thrown(() => verifyForkEvidence(fixture.federation, evidence)) as Error & { code: string };
    expect({ name, code: error.code, message: error.message }).toEqual({ name, code, message: expect.stringMatching(message) });
  }
});

test("evidence about another federation is refused with both ids", () => {
  const other = federationFixture({ validatorCount: 4, label: "other" }).federation;
  const evidence = forkEvidence(fixture.federation, observed(left, 8), observed(right, 8));
  expect(thrown(() => verifyForkEvidence(other, evidence))).toMatchObject({
    code: "EVIDENCE_OTHER_FEDERATION",
    message: `the evidence is about federation ${fixture.federation.id.toString("hex")}, the federation file is ${other.id.toString("hex")}`,
  });
});

test("a file whose stated conflict or double signers differ from what its proof shows, or that is malformed, is refused", () => {
  const file = JSON.parse(formatForkEvidence(fixture.federation, forkEvidence(fixture.federation, observed(left, 5), observed(right, 9), prefixProof(right, 5, 9))));
  const mutants: Array<[string, object, RegExp]> = [
    ["a double signer added", { ...file, doubleSigners: [...file.doubleSigners, "delta.example"] }, /doubleSigners: names alpha.example, bravo.example, charlie.example, delta.example, but the validators whose signatures are on both checkpoints are alpha.example, bravo.example, charlie.example/],
    ["another conflict", { ...file, conflict: "same-size" }, /conflict: says "same-size", the checkpoints show "not-a-prefix"/],
    ["an unknown field", { ...file, verdict: "fork" }, /has an unknown field "verdict"/],
    ["another format", { ...file, format: "hashfed-fork-evidence/v2" }, /format: must be "hashfed-fork-evidence\/v1"/],
    ["a wrong leaf index", { ...file, prefixProof: { ...file.prefixProof, leafIndex: "5" } }, /prefixProof.leafIndex: must be 4/],
    ["a hash that is not base64", { ...file, prefixProof: { ...file.prefixProof, hashes: ["not a hash"] } }, /prefixProof.hashes\[0\]: must be a 32-byte hash in canonical base64/],
  ];
  for (const [name, mutant, message] of mutants) {
    const error = thrown(() => checkForkEvidenceFile(fixture.federation, JSON.stringify(mutant))) as Error;
    expect({ name, message: error.message }).toEqual({ name, message: expect.stringMatching(message) });
  }
  expect(thrown(() => checkForkEvidenceFile(fixture.federation, "{"))).toMatchObject({ code: "EVIDENCE_MALFORMED", message: expect.stringMatching(/^the fork evidence: is not JSON/) });
});
