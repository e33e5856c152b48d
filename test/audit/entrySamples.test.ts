import { checkEntryInclusion, chooseSamples, verifyCosignedCheckpoint } from "../../src/audit";
import { hashLeaf } from "../../src/log";
import { flipBit } from "../crypto/testBytes";
import { ReferenceTree } from "../log/referenceTree";
import { thrown } from "../log/thrown";
import { cosign } from "../support/fakeLogNode";
import { alpha, bravo, charlie, fixture } from "./auditRounds";

/**
 * Goal: a sampled audit always looks at the newest entry and the first one it has not audited
 * before, draws the rest, and covers the whole log when asked for as many samples as there are
 * entries; a sampled entry that is not in the checkpoint's tree is reported as swapped when the
 * node's own proof shows another leaf there, and as unproven otherwise.
 * Method: sample choices with a fixed draw; inclusion checks over a 9-leaf reference tree.
 */

test("samples: the last entry, the first new one, then draws; every entry when the count covers the log", () => {
  let next = 0;
  const draws = [5n, 5n, 2n, 7n];
  const draw = (): bigint => draws[next++]!;
  expect(chooseSamples(100n, 40n, 4, draw)).toEqual([2n, 5n, 40n, 99n]);
  expect(chooseSamples(3n, 0n, 16, draw)).toEqual([0n, 1n, 2n]);
  expect(chooseSamples(100n, 100n, 1, draw)).toEqual([99n]);
  expect(chooseSamples(100n, 0n, 0, draw)).toEqual([]);
});

test("an entry not in the tree is swapped when the node's proof shows another leaf at its index, unproven when it shows nothing", () => {
  const leaves = Array.from({ length: 9 }, (_, index) => hashLeaf(Buffer.from(`leaf ${index}`)));
  const tree = new ReferenceTree(leaves);
  const checkpoint = verifyCosignedCheckpoint(fixture.federation, cosign(fixture, 9, tree.hash(0, 9), [alpha, bravo, charlie]));
  const served = { leafHash: leaves[4]!, hashes: tree.path(4, 0, 9) };
  checkEntryInclusion(4n, leaves[4]!, served, checkpoint, "node");
  const other = hashLeaf(Buffer.from("another entry"));
  expect(thrown(() => checkEntryInclusion(4n, other, served, checkpoint, "node"))).toMatchObject({
    code: "ENTRY_TAMPERED",
    message: `entry 4 as served by node is not the entry the checkpoint of size 9 commits to: the served entry's leaf hash is ${other.toString("hex")}, the tree's leaf 4 is ${leaves[4]!.toString("hex")} (shown by an inclusion proof against the checkpoint's root)`,
  });
  const garbage = { leafHash: leaves[4]!, hashes: [flipBit(served.hashes[0]!, 0), ...served.hashes.slice(1)] };
  expect(thrown(() => checkEntryInclusion(4n, leaves[4]!, garbage, checkpoint, "node"))).toMatchObject({
    code: "ENTRY_UNPROVEN",
    message: expect.stringMatching(/^node cannot prove entry 4 part of the checkpoint of size 9: the proof does not match the root/),
  });
});
