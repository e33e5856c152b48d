/**
 * Goal: a Submit never waits for a statement that committed while the request was being signed,
 * and never signs a second statement for a signal that committed meanwhile.
 * Method: a one-validator replica (which decides alone) and the node's intake and worker pool,
 * wired as HashfedNode wires them, with the worker pool's signing held at a gate for the second
 * request, so that the first request's statement commits in between.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { KeySigner } from "../../src/crypto";
import type { SigningDomain } from "../../src/crypto/signingDomain";
import { Ed25519Pool } from "../../src/node/ed25519Pool";
import { systemClock, SystemEntropy, systemTimers } from "../../src/node/environment";
import { Replica } from "../../src/replica/replica";
import { SubmissionIntake } from "../../src/node/submissionIntake";
import { MemoryKeyValueStore } from "../../src/store";
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
  const replica = await Replica.open({
    federation,
    signer: new KeySigner(key),
    // A disk whose writes take 20 ms, so a statement stays pending long enough to be asked for again.
    kv: new MemoryKeyValueStore({ completeWrite: (complete) => setTimeout(complete, 20) }),
    transport: { send: () => {} },
    timers: systemTimers,
    onFatal: (error) => {
      throw error;
    },
  });
  const pool = new GatedPool(key, 1);
  const intake = new SubmissionIntake({ federation, signer: new KeySigner(key), ed25519Pool: pool, replica, clock: systemClock, entropy: new SystemEntropy() });

  const signalA = addSubmission("sha256", randomBytes(32).toString("hex"));
  const signalB = addSubmission("sha256", randomBytes(32).toString("hex"));
  pool.holdCall = 1;
  const first = intake.submit([signalA]);
  // The second request comes while the first one's statement is pending, not yet committed.
  while (replica.mempool.size === 0) await new Promise((resolve) => setImmediate(resolve));
  expect(replica.ledger.treeSize).toBe(0n);
  const second = intake.submit([signalA, signalB]);
  const answeredFirst = await first;
  expect(answeredFirst.acknowledgements[0]!.logIndex).toBe(0n);
  expect(pool.held).toHaveLength(1);
  pool.held[0]!();
  const answeredSecond = await second;
  expect(answeredSecond.acknowledgements.map((ack) => [ack.logIndex, ack.alreadyPresent])).toEqual([[0n, true], [1n, false]]);
  expect(answeredSecond.acknowledgements[0]!.statementId).toEqual(answeredFirst.acknowledgements[0]!.statementId);
  expect(replica.ledger.treeSize).toBe(2n);
  expect(replica.mempool.size).toBe(0);

  replica.close();
  await replica.idle();
  await pool.close();
  await rm(setup.folder, { recursive: true, force: true });
});
