import { hashLeaf } from "../../src/log/hasher";
import { prefixRootFromInclusionProof } from "../../src/log/prefixRoot";
import { ProofError } from "../../src/log/verify";
import { flipBit } from "../crypto/testBytes";
import { ReferenceTree } from "./referenceTree";
import { thrown } from "./thrown";

/**
 * Goal: the root of any prefix of a tree is read off an inclusion proof of the prefix's last leaf,
 * and only off a proof that verifies against the larger tree's root: this is what fork evidence
 * relies on to show which history a signed root belongs to.
 * Method: every (prefix, size) pair up to 33 leaves against a naive reference tree, then broken
 * proofs, which must throw ProofError.
 */

const leafHashes = Array.from({ length: 33 }, (_, index) => hashLeaf(Buffer.from(`entry ${index}`)));
const reference = new ReferenceTree(leafHashes);

test("for every size up to 33 and every prefix of it, the root read off the proof is the prefix's root", () => {
  for (let size = 1; size <= leafHashes.length; size++) {
    for (let prefix = 1; prefix <= size; prefix++) {
      const proof = reference.path(prefix - 1, 0, size);
      const root = prefixRootFromInclusionProof(BigInt(prefix), BigInt(size), leafHashes[prefix - 1]!, proof, reference.hash(0, size));
      expect({ size, prefix, root: root.toString("hex") }).toEqual({ size, prefix, root: reference.hash(0, prefix).toString("hex") });
    }
  }
});

test("a proof that does not verify against the larger root gives no prefix root", () => {
  const proof = reference.path(12, 0, 21);
  const root = reference.hash(0, 21);
  const cases = [
    () => prefixRootFromInclusionProof(13n, 21n, leafHashes[12]!, [flipBit(proof[0]!, 3), ...proof.slice(1)], root),
    () => prefixRootFromInclusionProof(13n, 21n, leafHashes[11]!, proof, root),
    () => prefixRootFromInclusionProof(13n, 21n, leafHashes[12]!, proof.slice(1), root),
    () => prefixRootFromInclusionProof(13n, 21n, leafHashes[12]!, proof, reference.hash(0, 20)),
    () => prefixRootFromInclusionProof(22n, 21n, leafHashes[12]!, proof, root),
  ];
  for (const attempt of cases) expect(thrown(attempt)).toBeInstanceOf(ProofError);
});

test("the empty prefix has no last leaf to prove", () => {
  expect(thrown(() => prefixRootFromInclusionProof(0n, 4n, leafHashes[0]!, [], reference.hash(0, 4)))).toMatchObject({ code: "EMPTY_TREE" });
});
