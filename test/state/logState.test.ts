import fc from "fast-check";
import { AssertionError } from "../../src/assert";
import { HashfedError } from "../../src/errors";
import type { PrivateKey } from "../../src/crypto";
import { LogState } from "../../src/state/logState";
import { type SignedStatement, statementIdOf, type StatementId } from "../../src/statements";
import { described, hashfedError } from "../support/hashfedErrors";
import { federationFixture, StatementMaker } from "../support/statements";

/**
 * Goal: the log's rules for the next statement hold whether its predecessors are committed or only
 * earlier in the same draft: no statement twice, a retraction targets a live AddSignal of its own
 * submitter, once; and the state's counters and columns say what the log holds.
 * Method: one scenario per rule, each checked against a committed target and a target earlier in
 * the draft; then a property: random runs of adds, retractions and resubmissions, cut into drafts
 * that are appended, agree with a naive model written from the rules.
 */

const fixture = federationFixture();
const alpha = fixture.validators[0]!.key;
const observer = fixture.observer.key;
const maker = new StatementMaker(fixture.federation, "state");
const add = (key: PrivateKey = alpha) => maker.add(key).signed;
const retract = (key: PrivateKey, target: SignedStatement) => maker.retract(key, target.id).signed;

/** A state holding `statements`, appended in order after a draft accepted them. */
function committed(...statements: SignedStatement[]): LogState {
  const state = new LogState();
  const draft = state.draft();
  for (const signed of statements) draft.check(signed);
  for (const signed of statements) state.append(signed);
  return state;
}

function refusal(state: LogState, before: readonly SignedStatement[], signed: SignedStatement) {
  const draft = state.draft();
  for (const earlier of before) draft.check(earlier);
  return described(hashfedError(() => draft.check(signed)));
}

describe("LogState", () => {
  test("starts empty", () => {
    const state = new LogState();
    expect({ size: state.size, liveSignals: state.liveSignals, retractions: state.retractions }).toEqual({ size: 0, liveSignals: 0, retractions: 0 });
    expect(state.indexOf(statementIdOf(Buffer.from("anything")))).toBeUndefined();
  });

  test("records each entry's index, submitter and kind, and which retraction withdrew it", () => {
    const first = add(alpha);
    const second = add(observer);
    const third = add(alpha);
    const withdrawal = retract(alpha, first);
    const state = committed(first, second, third, withdrawal);
    expect([first, second, third, withdrawal].map((signed) => state.indexOf(signed.id))).toEqual([0, 1, 2, 3]);
    expect([0, 1, 2, 3].map((index) => state.submitterAt(index))).toEqual([alpha.name, observer.name, alpha.name, alpha.name]);
    expect([0, 1, 2, 3].map((index) => state.isRetraction(index))).toEqual([false, false, false, true]);
    expect([0, 1, 2, 3].map((index) => state.retractedBy(index))).toEqual([3, undefined, undefined, undefined]);
    expect({ size: state.size, liveSignals: state.liveSignals, retractions: state.retractions }).toEqual({ size: 4, liveSignals: 2, retractions: 1 });
  });

  test("refuses, as a programmer error, to append a statement a draft would have refused", () => {
    const first = add();
    const state = committed(first);
    expect(() => state.append(first)).toThrow(AssertionError);
    expect(() => state.append(retract(alpha, add()))).toThrow(AssertionError);
  });
});

describe("LogDraft", () => {
  test("checking changes nothing in the state until the entries are appended", () => {
    const state = committed(add());
    const candidate = add();
    const draft = state.draft();
    draft.check(candidate);
    draft.check(retract(alpha, candidate));
    expect(draft.size).toBe(2);
    expect(state.size).toBe(1);
    expect(state.indexOf(candidate.id)).toBeUndefined();
    expect(state.draft().size).toBe(0);
    expect(() => state.draft().check(candidate)).not.toThrow();
  });

  describe("a statement already on the log is refused with kind exists", () => {
    const signed = add();
    test("when it is committed", () => {
      expect(refusal(committed(add(), signed), [], signed)).toEqual({
        kind: "exists",
        code: "STATEMENT_DUPLICATE",
        message: `statement ${signed.id.toString("hex")} is already on the log at log index 1`,
      });
    });
    test("when it is earlier in the draft", () => {
      expect(refusal(new LogState(), [signed], signed)).toEqual({
        kind: "exists",
        code: "STATEMENT_DUPLICATE",
        message: `statement ${signed.id.toString("hex")} is already on the log earlier in this batch`,
      });
    });
    test("for a retraction as for an AddSignal", () => {
      const target = add();
      const withdrawal = retract(alpha, target);
      expect(refusal(committed(target, withdrawal), [], withdrawal).code).toBe("STATEMENT_DUPLICATE");
      expect(refusal(committed(target), [withdrawal], withdrawal).code).toBe("STATEMENT_DUPLICATE");
    });
  });

  test("the retraction of an unknown statement is not-found", () => {
    const unknown = statementIdOf(Buffer.from("never submitted")) as StatementId;
    expect(refusal(committed(add()), [], maker.retract(alpha, unknown).signed)).toEqual({
      kind: "not-found",
      code: "RETRACT_TARGET_UNKNOWN",
      message: `no entry on the log has statement id ${unknown.toString("hex")}`,
    });
  });

  test("a statement refused earlier in the draft is not in it: retracting it is not-found", () => {
    const target = add();
    const draft = committed(target).draft();
    const refused = retract(observer, target);
    expect(hashfedError(() => draft.check(refused)).code).toBe("RETRACT_NOT_OWNER");
    expect(hashfedError(() => draft.check(maker.retract(observer, refused.id).signed)).kind).toBe("not-found");
    expect(draft.size).toBe(0);
  });

  describe.each([
    ["committed", (target: SignedStatement, ...rest: SignedStatement[]) => ({ state: committed(target, ...rest), before: [] as SignedStatement[] })],
    ["earlier in the draft", (target: SignedStatement, ...rest: SignedStatement[]) => ({ state: new LogState(), before: [target, ...rest] })],
  ])("when the target is %s", (_, place) => {
    test("retracting another member's entry is forbidden", () => {
      const target = add(observer);
      const { state, before } = place(target);
      expect(refusal(state, before, retract(alpha, target))).toEqual({
        kind: "forbidden",
        code: "RETRACT_NOT_OWNER",
        message: `statement ${target.id.toString("hex")} was submitted by ${observer.name}; ${alpha.name} can only retract its own entries`,
      });
    });

    test("retracting a retraction is a failed precondition", () => {
      const target = add();
      const withdrawal = retract(alpha, target);
      const { state, before } = place(target, withdrawal);
      expect(refusal(state, before, maker.retract(alpha, withdrawal.id).signed)).toEqual({
        kind: "precondition",
        code: "RETRACT_TARGET_NOT_SIGNAL",
        message: `statement ${withdrawal.id.toString("hex")} is a retraction; only an added signal can be retracted`,
      });
    });

    test("retracting another member's retraction is refused as a retraction first", () => {
      const target = add(observer);
      const withdrawal = retract(observer, target);
      const { state, before } = place(target, withdrawal);
      expect(refusal(state, before, maker.retract(alpha, withdrawal.id).signed).code).toBe("RETRACT_TARGET_NOT_SIGNAL");
    });

    test("retracting an entry twice is a failed precondition", () => {
      const target = add();
      const { state, before } = place(target, retract(alpha, target));
      const where = before.length === 0 ? "by the entry at log index 1" : "earlier in this batch";
      expect(refusal(state, before, retract(alpha, target))).toEqual({
        kind: "precondition",
        code: "RETRACT_TWICE",
        message: `statement ${target.id.toString("hex")} was already retracted ${where}`,
      });
    });

    test("retracting one's own live entry is allowed and counts in the draft", () => {
      const target = add();
      const { state, before } = place(target);
      const draft = state.draft();
      for (const earlier of before) draft.check(earlier);
      draft.check(retract(alpha, target));
      expect(draft.size).toBe(before.length + 1);
    });
  });

  test("a committed entry retracted earlier in the draft cannot be retracted again in it", () => {
    const target = add();
    expect(refusal(committed(target), [retract(alpha, target)], retract(alpha, target))).toMatchObject({
      kind: "precondition",
      code: "RETRACT_TWICE",
      message: expect.stringContaining("earlier in this batch"),
    });
  });

  test("an entry added and retracted in one draft is appended as retracted", () => {
    const state = committed(add());
    const target = add();
    const withdrawal = retract(alpha, target);
    const draft = state.draft();
    draft.check(target);
    draft.check(withdrawal);
    state.append(target);
    state.append(withdrawal);
    expect(state.retractedBy(state.indexOf(target.id)!)).toBe(state.indexOf(withdrawal.id));
    expect({ size: state.size, liveSignals: state.liveSignals, retractions: state.retractions }).toEqual({ size: 3, liveSignals: 1, retractions: 1 });
  });

  test("a refused statement does not count: a failed retraction leaves the target retractable", () => {
    const target = add();
    const draft = committed(target).draft();
    expect(hashfedError(() => draft.check(retract(observer, target))).code).toBe("RETRACT_NOT_OWNER");
    expect(draft.size).toBe(0);
    expect(() => draft.check(retract(alpha, target))).not.toThrow();
    expect(draft.size).toBe(1);
  });
});

/**
 * The model: the log as a list of records, with every rule written out plainly. A draft is the
 * committed list followed by the entries accepted so far.
 */
interface ModelEntry {
  readonly signed: SignedStatement;
  readonly submitter: string;
  readonly target: string | undefined;
  retractedBy: number | undefined;
}

function modelOutcome(log: readonly ModelEntry[], signed: SignedStatement): { kind: string; code: string } | undefined {
  const hex = signed.id.toString("hex");
  if (log.some((entry) => entry.signed.id.toString("hex") === hex)) return { kind: "exists", code: "STATEMENT_DUPLICATE" };
  const body = signed.statement.body!;
  if (body.$case !== "retract") return undefined;
  const targetHex = body.value.target.toString("hex");
  const target = log.find((entry) => entry.signed.id.toString("hex") === targetHex);
  if (target === undefined) return { kind: "not-found", code: "RETRACT_TARGET_UNKNOWN" };
  if (target.target !== undefined) return { kind: "precondition", code: "RETRACT_TARGET_NOT_SIGNAL" };
  if (target.submitter !== signed.statement.submitter) return { kind: "forbidden", code: "RETRACT_NOT_OWNER" };
  if (target.retractedBy !== undefined) return { kind: "precondition", code: "RETRACT_TWICE" };
  return undefined;
}

function modelAppend(log: ModelEntry[], signed: SignedStatement): void {
  const body = signed.statement.body!;
  const targetHex = body.$case === "retract" ? body.value.target.toString("hex") : undefined;
  if (targetHex !== undefined) log.find((entry) => entry.signed.id.toString("hex") === targetHex)!.retractedBy = log.length;
  log.push({ signed, submitter: signed.statement.submitter, target: targetHex, retractedBy: undefined });
}

type Operation =
  | { readonly kind: "add"; readonly by: number }
  | { readonly kind: "retract"; readonly by: number; readonly target: number | "unknown" }
  | { readonly kind: "resubmit"; readonly which: number }
  | { readonly kind: "cut" };

const submitters = [alpha, observer];
const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("add" as const), by: fc.integer({ min: 0, max: 1 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("retract" as const),
      by: fc.integer({ min: 0, max: 1 }),
      // Counted back from the latest statement made, so that most retractions aim at something recent.
      target: fc.oneof({ weight: 9, arbitrary: fc.nat({ max: 6 }) }, { weight: 1, arbitrary: fc.constant("unknown" as const) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("resubmit" as const), which: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: "cut" as const }) },
);

test("property: drafts appended in turn agree with a naive model of the rules", () => {
  fc.assert(
    fc.property(fc.array(operation, { minLength: 1, maxLength: 60, size: "max" }), (operations) => {
      const state = new LogState();
      const model: ModelEntry[] = [];
      const made: SignedStatement[] = [];
      let draft = state.draft();
      let draftModel: ModelEntry[] = [];
      let accepted: SignedStatement[] = [];
      const cut = () => {
        for (const signed of accepted) state.append(signed);
        for (const signed of accepted) modelAppend(model, signed);
        draft = state.draft();
        draftModel = model.map((entry) => ({ ...entry }));
        accepted = [];
      };
      for (const step of [...operations, { kind: "cut" as const }]) {
        if (step.kind === "cut") {
          cut();
          continue;
        }
        let signed: SignedStatement;
        if (step.kind === "add") signed = add(submitters[step.by]);
        else if (step.kind === "resubmit") {
          if (made.length === 0) continue;
          signed = made[step.which % made.length]!;
        } else {
          const target = step.target === "unknown" || made.length === 0 ? statementIdOf(Buffer.from(`unknown ${made.length}`)) : made[made.length - 1 - (step.target % made.length)]!.id;
          signed = maker.retract(submitters[step.by]!, target).signed;
        }
        made.push(signed);
        const expected = modelOutcome(draftModel, signed);
        let outcome: { kind: string; code: string } | undefined;
        try {
          draft.check(signed);
        } catch (error) {
          if (!(error instanceof HashfedError)) throw error;
          outcome = { kind: error.kind, code: error.code };
        }
        expect(outcome).toEqual(expected);
        if (outcome === undefined) {
          accepted.push(signed);
          modelAppend(draftModel, signed);
        }
        expect(draft.size).toBe(accepted.length);
      }
      expect(state.size).toBe(model.length);
      expect(state.retractions).toBe(model.filter((entry) => entry.target !== undefined).length);
      expect(state.liveSignals).toBe(model.filter((entry) => entry.target === undefined && entry.retractedBy === undefined).length);
      model.forEach((entry, index) => {
        expect(state.indexOf(entry.signed.id)).toBe(index);
        expect(state.submitterAt(index)).toBe(entry.submitter);
        expect(state.isRetraction(index)).toBe(entry.target !== undefined);
        expect(state.retractedBy(index)).toBe(entry.retractedBy);
      });
      const onLog = new Set(model.map((entry) => entry.signed.id.toString("hex")));
      for (const signed of made) if (!onLog.has(signed.id.toString("hex"))) expect(state.indexOf(signed.id)).toBeUndefined();
    }),
    { numRuns: 60 },
  );
});
