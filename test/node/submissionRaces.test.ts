/**
 * Goal: a Submit never waits for a statement that committed while the request was being signed,
 * and never signs a second statement for a signal that committed meanwhile.
 * Method: the node's real parts (LevelDB store, ledger, mempool, sequencer, intake, worker pool)
 * wired as HashfedNode wires them, with the worker pool's signing held at a gate for the second
 * request, so that the first request's statement commits in between.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { KeySigner } from "../../src/crypto";
import type { SigningDomain } from "../../src/crypto/signingDomain";
import { CommitWaiters } from "../../src/replica/commitWaiters";
import { Ed25519Pool } from "../../src/node/ed25519Pool";
import { systemClock, SystemEntropy } from "../../src/node/environment";
import { Ledger } from "../../src/ledger/ledger";
import { Mempool } from "../../src/replica/mempool";
import { SoloSequencer } from "../../src/node/soloSequencer";
import { SubmissionIntake } from "../../src/node/submissionIntake";
import { LogStore } from "../../src/store";
import { testFederation } from "../support/inProcessNode";
import { addSubmission } from "../support/submissions";

/** The real pool, with the signing of chosen calls held until released. */
class GatedPool extends Ed25519Pool {
  private calls = 0;
  readonly held: (() => void)[] = [];
  holdCall = -1;

  override async sign(domain: SigningDomain, messages: readonly Uint8Array[]): Promise<Buffer[]> {
    if (this.calls++ === this.holdCall) await new Promise<void>((resolve) => this.held.push(resolve));
    return super.sign(domain, messages);
  }
}

test("a request whose statement commits while it is being signed is answered with the committed entry", async () => {
  const setup = await testFederation();
  const { federation, key } = setup;
  const store = await LogStore.open(join(setup.folder, "store"));
  await store.bindFederation(federation.id);
  const ledger = await Ledger.open(federation, store);
  const mempool = new Mempool({ statementsMax: 1000, perSubmitterMax: 1000 });
  const waiters = new CommitWaiters();
  const pool = new GatedPool(key, 1);
  const signer = new KeySigner(key);
  let intake: SubmissionIntake | undefined;
  const sequencer = new SoloSequencer({
    federation, ledger, mempool, signer, clock: systemClock,
    onRejected: (entry, error) => intake!.rejected(entry, error),
    onFatal: (error) => { throw error; },
  });
  intake = new SubmissionIntake({ federation, signer, ed25519Pool: pool, ledger, mempool, waiters, clock: systemClock, entropy: new SystemEntropy(), onAdmitted: () => sequencer.poke() });
  ledger.onCommit((batch) => {
    const first = Number(ledger.treeSize) - batch.entries.length;
    batch.entries.forEach((entry, offset) => {
      mempool.remove(entry.signed.id);
      waiters.committed(entry.signed.id, first + offset);
    });
  });

  const signalA = addSubmission("sha256", randomBytes(32).toString("hex"));
  const signalB = addSubmission("sha256", randomBytes(32).toString("hex"));
  pool.holdCall = 1;
  const first = intake.submit([signalA]);
  // The second request comes while the first one's statement is pending, not yet committed.
  while (mempool.size === 0) await new Promise((resolve) => setImmediate(resolve));
  expect(ledger.treeSize).toBe(0n);
  const second = intake.submit([signalA, signalB]);
  const answeredFirst = await first;
  expect(answeredFirst.acknowledgements[0]!.logIndex).toBe(0n);
  expect(pool.held).toHaveLength(1);
  pool.held[0]!();
  const answeredSecond = await second;
  expect(answeredSecond.acknowledgements.map((ack) => [ack.logIndex, ack.alreadyPresent])).toEqual([[0n, true], [1n, false]]);
  expect(answeredSecond.acknowledgements[0]!.statementId).toEqual(answeredFirst.acknowledgements[0]!.statementId);
  expect(ledger.treeSize).toBe(2n);
  expect(mempool.size).toBe(0);

  await sequencer.stop();
  await pool.close();
  await store.close();
  await rm(setup.folder, { recursive: true, force: true });
});
