/**
 * Goal: a Submit never waits for a statement that committed while the request was being signed,
 * never signs a second statement for a signal that committed meanwhile, and a retraction the node
 * signs that another retraction of the entry beat to the log is acknowledged by that one, as is a
 * statement the node signs that one signed elsewhere does, taken into the same batch.
 * Method: a one-validator replica (which decides alone) and the node's intake and worker pool,
 * wired as HashfedNode wires them, with the worker pool's signing held at a gate for the second
 * request, so that the first request's statement commits in between; for the retractions, a disk
 * slow enough that the second comes while the first is being decided; for the same batch, a disk
 * held while both come.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { KeySigner } from "../../src/crypto";
import type { PrivateKey } from "../../src/crypto/keys";
import type { Federation } from "../../src/federation";
import type { SigningDomain } from "../../src/crypto/signingDomain";
import { Ed25519Pool } from "../../src/node/ed25519Pool";
import { systemClock, SystemEntropy, systemTimers } from "../../src/node/environment";
import { Replica } from "../../src/replica/replica";
import { SubmissionIntake } from "../../src/node/submissionIntake";
import { MemoryKeyValueStore } from "../../src/store";
import { testFederation } from "../support/inProcessNode";
import { addSubmission, signedSubmission } from "../support/submissions";
import { RetractReason } from "../../src/gen/hashfed/v1/statement";
import type { SubmitResponse } from "../../src/gen/hashfed/v1/member";
import { encodeAddSignal, encodeRetract, parseStatementId, signStatement } from "../../src/statements";

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

interface SingleValidator {
  readonly federation: Federation;
  readonly key: PrivateKey;
  /** The federation's other member's key: an observer. */
  readonly otherKey: PrivateKey;
  readonly replica: Replica;
  readonly intake: SubmissionIntake;
}

/**
 * A one-validator replica on a disk whose writes take 20 ms unless `completeWrite` says otherwise (a
 * statement stays pending, and a batch is being decided, long enough for the next request to come
 * meanwhile), with the node's intake on the pool `makePool` gives; closed and removed after `run`.
 */
async function withSingleValidator<P extends Ed25519Pool>(
  makePool: (key: PrivateKey) => P,
  run: (validator: SingleValidator, pool: P) => Promise<void>,
  completeWrite: (complete: () => void) => void = (complete) => setTimeout(complete, 20),
): Promise<void> {
  const setup = await testFederation();
  const { federation, key, otherKey } = setup;
  const replica = await Replica.open({
    federation,
    signer: new KeySigner(key),
    kv: new MemoryKeyValueStore({ completeWrite }),
    transport: { send: () => {} },
    timers: systemTimers,
    onFatal: (error) => {
      throw error;
    },
  });
  const pool = makePool(key);
  const intake = new SubmissionIntake({ federation, signer: new KeySigner(key), ed25519Pool: pool, replica, clock: systemClock, entropy: new SystemEntropy() });
  try {
    await run({ federation, key, otherKey, replica, intake }, pool);
  } finally {
    replica.close();
    await replica.idle();
    await pool.close();
    await rm(setup.folder, { recursive: true, force: true });
  }
}

/** A disk whose writes wait while held (a replica waits for its writes, so it takes requests in only after), and else take 1 ms. */
function holdableDisk() {
  let held = false;
  const waiting: (() => void)[] = [];
  return {
    hold: (): void => {
      held = true;
    },
    release: (): void => {
      held = false;
      for (const complete of waiting.splice(0)) complete();
    },
    holdsAWrite: (): boolean => waiting.length > 0,
    completeWrite: (complete: () => void): unknown => (held ? waiting.push(complete) : setTimeout(complete, 1)),
  };
}

/** Counts what is handed to the replica's submit: calls, and statements in them. */
function countHandOvers(replica: Replica): { calls: number; statements: number } {
  const counted = { calls: 0, statements: 0 };
  const submit = replica.submit.bind(replica);
  replica.submit = (entries, abandoned) => {
    counted.calls++;
    counted.statements += entries.length;
    return submit(entries, abandoned);
  };
  return counted;
}

test("a request whose statement commits while it is being signed is answered with the committed entry", () =>
  withSingleValidator(
    (key) => new GatedPool(key, 1),
    async ({ replica, intake }, pool) => {
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
    },
  ));

test("a retraction the node signs, refused because another retraction of the entry committed meanwhile, is acknowledged by that one", () =>
  withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ federation, key, replica, intake }) => {
      const added = (await intake.submit([addSubmission("sha256", randomBytes(32).toString("hex"))])).acknowledgements[0]!;
      const target = parseStatementId(added.statementId);
      // The member's own signing system retracts the entry (after a crash of the node, say), and the
      // member asks the node to retract it too while that first retraction is being decided.
      const context = { federationId: federation.id, submitter: key.name, createdAtMs: 1n, nonce: randomBytes(16) };
      const elsewhere = signStatement(new KeySigner(key), encodeRetract(context, target, RetractReason.RETRACT_REASON_OTHER));
      const first = intake.submit([signedSubmission({ signed: elsewhere, reveal: undefined })]);
      while (replica.mempool.size === 0) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(replica.ledger.state.retractedBy(Number(added.logIndex))).toBeUndefined();
      const second = intake.submit([{ kind: { $case: "retract", value: { target, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }]);
      const [answeredFirst, answeredSecond] = await Promise.all([first, second]);
      expect(answeredSecond.acknowledgements.map((ack) => [ack.statementId, ack.logIndex, ack.alreadyPresent])).toEqual(
        answeredFirst.acknowledgements.map((ack) => [ack.statementId, ack.logIndex, true]),
      );
      expect(replica.ledger.treeSize).toBe(2n);
    },
  ));

test("a statement the node signs, in the same batch as one signed elsewhere that does the same, is acknowledged by that one", async () => {
  const disk = holdableDisk();
  await withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ federation, key, replica, intake }) => {
      const added = (await intake.submit([addSubmission("sha256", randomBytes(32).toString("hex"))])).acknowledgements[0]!;
      const target = parseStatementId(added.statementId);
      const context = () => ({ federationId: federation.id, submitter: key.name, createdAtMs: 1n, nonce: randomBytes(16) });
      const retraction = signStatement(new KeySigner(key), encodeRetract(context(), target, RetractReason.RETRACT_REASON_OTHER));
      const value = randomBytes(32);
      const draft = { signalType: "sha256" as const, value, labels: ["graphic-violence"], taxonomyVersion: federation.taxonomy.version, quality: 90, salt: randomBytes(16) };
      const signal = signStatement(new KeySigner(key), encodeAddSignal(context(), draft));
      const handedOver = countHandOvers(replica);

      disk.hold();
      const busy = intake.submit([addSubmission("sha256", randomBytes(32).toString("hex"))]);
      while (!disk.holdsAWrite()) await new Promise((resolve) => setImmediate(resolve));
      const elsewhere = [
        intake.submit([signedSubmission({ signed: retraction, reveal: undefined })]),
        intake.submit([signedSubmission({ signed: signal, reveal: { salt: draft.salt, value } })]),
      ];
      const here = [
        intake.submit([{ kind: { $case: "retract", value: { target, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }]),
        intake.submit([addSubmission("sha256", value.toString("hex"))]),
      ];
      while (handedOver.calls < 5) await new Promise((resolve) => setImmediate(resolve));
      disk.release();

      expect((await busy).acknowledgements[0]!.logIndex).toBe(1n);
      const acknowledged = async (answers: Promise<SubmitResponse>[]) =>
        (await Promise.all(answers)).map(({ acknowledgements: [ack] }) => [ack!.statementId, ack!.logIndex, ack!.alreadyPresent]);
      expect(await acknowledged(elsewhere)).toEqual([
        [retraction.id, 2n, false],
        [signal.id, 3n, false],
      ]);
      expect(await acknowledged(here)).toEqual([
        [retraction.id, 2n, true],
        [signal.id, 3n, true],
      ]);
      expect(replica.ledger.treeSize).toBe(4n);
      expect(replica.mempool.size).toBe(0);
    },
    disk.completeWrite,
  );
});

test("one signed statement twice in a request, adding a signal its member has live, is refused cleanly, and the node goes on", () =>
  withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ federation, key, replica, intake }) => {
      const value = randomBytes(32);
      await intake.submit([addSubmission("sha256", value.toString("hex"))]);
      const context = { federationId: federation.id, submitter: key.name, createdAtMs: 1n, nonce: randomBytes(16) };
      const draft = { signalType: "sha256" as const, value, labels: ["graphic-violence"], taxonomyVersion: federation.taxonomy.version, quality: 90, salt: randomBytes(16) };
      const again = signedSubmission({ signed: signStatement(new KeySigner(key), encodeAddSignal(context, draft)), reveal: { salt: draft.salt, value } });
      // It was an internal error (the second copy asserted to be pending), and the first copy's
      // refusal, left unhandled, stopped the process.
      await expect(intake.submit([again, again])).rejects.toMatchObject({ code: "SIGNAL_ALREADY_LIVE" });
      const next = await intake.submit([addSubmission("sha256", randomBytes(32).toString("hex"))]);
      expect(next.acknowledgements[0]!.logIndex).toBe(1n);
      expect(replica.mempool.size).toBe(0);
    },
  ));

test("an entry retracted and its signal added again (new labels), in one request in either order or while the retraction is pending, ends with the signal live under the new labels", () =>
  withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ federation, key, replica, intake }) => {
      const addWith = (value: string, label: string) => ({ kind: { $case: "add" as const, value: { signalType: "sha256", value, labels: [label], quality: 0 } } });
      const retractionOf = (target: Buffer) => ({ kind: { $case: "retract" as const, value: { target, reason: RetractReason.RETRACT_REASON_OTHER } } });
      const liveEntries = (value: string) =>
        replica.ledger.index.match("sha256", Buffer.from(value, "hex"), 0).map((hit) => [hit.logIndex, replica.ledger.state.submitterAt(hit.logIndex)]);
      const entryAt = async (index: bigint) => (await replica.ledger.store.readEntry(index))!;
      const relabelled = async (value: string, answer: SubmitResponse, addPosition: number, retracted: bigint) => {
        const add = answer.acknowledgements[addPosition]!;
        // The add was acknowledged by the entry being retracted, and the signal then matched nowhere.
        expect(add.alreadyPresent).toBe(false);
        expect(add.logIndex).toBeGreaterThan(retracted);
        expect(liveEntries(value)).toEqual([[Number(add.logIndex), key.name]]);
        expect((await entryAt(add.logIndex)).entryBytes.includes(Buffer.from("attacker-manifesto"))).toBe(true);
      };
      const added = async (value: string) => (await intake.submit([addWith(value, "graphic-violence")])).acknowledgements[0]!;

      const first = randomBytes(32).toString("hex");
      const entry = await added(first);
      await relabelled(first, await intake.submit([retractionOf(entry.statementId), addWith(first, "attacker-manifesto")]), 1, entry.logIndex);

      const second = randomBytes(32).toString("hex");
      const secondEntry = await added(second);
      await relabelled(second, await intake.submit([addWith(second, "attacker-manifesto"), retractionOf(secondEntry.statementId)]), 0, secondEntry.logIndex);

      // The member's retraction is pending (its client gave up waiting, say) when it adds the signal again.
      const third = randomBytes(32).toString("hex");
      const thirdEntry = await added(third);
      const retraction = intake.submit([retractionOf(thirdEntry.statementId)]);
      while (replica.mempool.size === 0) await new Promise((resolve) => setImmediate(resolve));
      const again = intake.submit([addWith(third, "attacker-manifesto")]);
      await retraction;
      await relabelled(third, await again, 0, thirdEntry.logIndex);

      // A retraction with an add signed elsewhere: the proposer had refused the add (SIGNAL_ALREADY_LIVE) and committed the retraction.
      const fourth = randomBytes(32);
      const fourthEntry = await added(fourth.toString("hex"));
      const context = { federationId: federation.id, submitter: key.name, createdAtMs: 1n, nonce: randomBytes(16) };
      const draft = { signalType: "sha256" as const, value: fourth, labels: ["attacker-manifesto"], taxonomyVersion: federation.taxonomy.version, quality: 0, salt: randomBytes(16) };
      const signedAdd = signedSubmission({ signed: signStatement(new KeySigner(key), encodeAddSignal(context, draft)), reveal: { salt: draft.salt, value: fourth } });
      await relabelled(fourth.toString("hex"), await intake.submit([retractionOf(fourthEntry.statementId), signedAdd]), 1, fourthEntry.logIndex);
      expect(replica.mempool.size).toBe(0);
    },
  ));

test("a request's first bad submission is the one reported, whatever kinds follow it", () =>
  withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ intake }) => {
      const unknownTarget = { kind: { $case: "retract" as const, value: { target: randomBytes(32), reason: RetractReason.RETRACT_REASON_OTHER } } };
      await expect(intake.submit([addSubmission("sha256", "zz"), unknownTarget])).rejects.toMatchObject({
        code: "SIGNAL_VALUE_NOT_HEX",
        message: expect.stringMatching(/^submissions\[0\]: /),
      });
    },
  ));

test("refusals name what the client sent: a label by its place in the request's list, a second retraction as earlier in this request, a live signal by its entry", () =>
  withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ federation, key, intake, replica }) => {
      // The labels had been sorted before they were checked: this one was reported as labels[2].
      await expect(intake.submit([addSubmission("sha256", randomBytes(32).toString("hex"), ["graphic-violence", "zzz-unknown", "attacker-manifesto"])])).rejects.toMatchObject({
        code: "LABEL_UNKNOWN",
        message: expect.stringMatching(/^submissions\[0\]: labels\[1\]: unknown label "zzz-unknown"/),
      });
      const value = randomBytes(32);
      const first = (await intake.submit([addSubmission("sha256", value.toString("hex"))])).acknowledgements[0]!;
      const context = () => ({ federationId: federation.id, submitter: key.name, createdAtMs: 1n, nonce: randomBytes(16) });
      const target = parseStatementId(first.statementId);
      const signedRetraction = signedSubmission({ signed: signStatement(new KeySigner(key), encodeRetract(context(), target, RetractReason.RETRACT_REASON_OTHER)), reveal: undefined });
      const retraction = { kind: { $case: "retract" as const, value: { target, reason: RetractReason.RETRACT_REASON_OTHER } } };
      // Said as "earlier in this batch", of a request.
      await expect(intake.submit([retraction, signedRetraction])).rejects.toMatchObject({
        code: "RETRACT_TWICE",
        message: `submissions[1]: statement ${target.toString("hex")} was already retracted earlier in this request`,
      });
      expect(replica.ledger.state.retractedBy(Number(first.logIndex))).toBeUndefined();
      const draft = { signalType: "sha256" as const, value, labels: ["graphic-violence"], taxonomyVersion: federation.taxonomy.version, quality: 0, salt: randomBytes(16) };
      const signedAdd = signedSubmission({ signed: signStatement(new KeySigner(key), encodeAddSignal(context(), draft)), reveal: { salt: draft.salt, value } });
      await expect(intake.submit([signedAdd])).rejects.toMatchObject({
        kind: "exists",
        code: "SIGNAL_ALREADY_LIVE",
        message: `${key.name} already has this sha256 signal on the log, live at log index ${first.logIndex}; retract that entry to replace it`,
      });
      expect(replica.mempool.size).toBe(0);
    },
  ));

test("another member's retraction of an entry, pending (the log refuses it), does not make the member's add of that signal a new statement", async () => {
  const disk = holdableDisk();
  await withSingleValidator(
    (key) => new Ed25519Pool(key, 1),
    async ({ federation, otherKey, replica, intake }) => {
      const value = randomBytes(32).toString("hex");
      const entry = (await intake.submit([addSubmission("sha256", value)])).acknowledgements[0]!;
      disk.hold();
      const busy = intake.submit([addSubmission("sha256", randomBytes(32).toString("hex"))]);
      while (!disk.holdsAWrite()) await new Promise((resolve) => setImmediate(resolve));
      const context = { federationId: federation.id, submitter: otherKey.name, createdAtMs: 1n, nonce: randomBytes(16) };
      const foreign = signStatement(new KeySigner(otherKey), encodeRetract(context, parseStatementId(entry.statementId), RetractReason.RETRACT_REASON_OTHER));
      const refused = replica.submit([{ signed: foreign, reveal: undefined }])[0]!.catch((error: unknown) => error);
      const handedOver = countHandOvers(replica);
      // The add again is the live entry: nothing is signed or handed to the replica (it was signed
      // anew, skipped by proposers until the foreign retraction was refused, then acknowledged).
      const again = intake.submit([addSubmission("sha256", value)]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      disk.release();
      await busy;
      expect((await again).acknowledgements.map((ack) => [ack.statementId, ack.alreadyPresent])).toEqual([[entry.statementId, true]]);
      expect(handedOver.statements).toBe(0);
      expect(await refused).toMatchObject({ code: "RETRACT_NOT_OWNER" });
    },
    disk.completeWrite,
  );
});
