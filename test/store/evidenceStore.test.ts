import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBatch, genesisHead } from "../../src/batch";
import { duplicateVote, signPrecommit } from "../../src/consensus";
import { LogState } from "../../src/state/logState";
import { LogStore } from "../../src/store";
import { federationFixture, StatementMaker } from "../support/statements";

/**
 * Goal: evidence of equivocation a node found is still there after the node restarts, in the order
 * it was found (it is the only proof, and the Log service serves it).
 * Method: a real LevelDB store in a temporary folder: two pieces kept, the store closed and
 * reopened, the pieces read back.
 */

test("evidence survives a restart, in order", async () => {
  const { federation, validators } = federationFixture({ validatorCount: 4, label: "evidence-store" });
  const batches = ["one", "two"].map((label) => {
    const maker = new StatementMaker(federation, label);
    return buildBatch(federation, new LogState(), genesisHead(), [maker.add(validators[0]!.key)], { proposer: validators[0]!.name, proposerTimeMs: 1n }).batch!;
  });
  const pieces = validators.slice(0, 2).map((validator) => duplicateVote(signPrecommit(federation, validator.signer, batches[0]!, 0), signPrecommit(federation, validator.signer, batches[1]!, 0)));
  const folder = await mkdtemp(join(tmpdir(), "hashfed-evidence-"));
  try {
    const store = await LogStore.open(folder);
    for (const [sequence, piece] of pieces.entries()) await store.addEvidence(sequence, piece);
    await store.close();
    const reopened = await LogStore.open(folder);
    expect(await reopened.readEvidence()).toEqual(pieces);
    await reopened.close();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
