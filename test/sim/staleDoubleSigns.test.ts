/**
 * Goal: the simulator's double-sign check excuses a validator restored from an old disk copy only
 * for messages its copy could not know: first signed after a copy was taken and before that copy
 * was restored, for any of its restores (a first version kept only the last restore's window and
 * reported a double-sign after two stale restores across one stalled height); anything else signed
 * twice, differently, is a violation.
 * Method: the InvariantChecker fed a validator's signed prevotes as its sends, on a clock the test moves.
 */
import { signVote } from "../../src/consensus";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { federationFixture } from "../support/statements";
import { InvariantChecker } from "./invariants";

const fixture = federationFixture({ validatorCount: 4, label: "stale-double-signs" });
const validator = fixture.validators[1]!;

function prevote(valueByte: number): Buffer {
  const vote = { federationId: fixture.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height: 5n, round: 0, valueId: Buffer.alloc(32, valueByte), validator: validator.signer.name, checkpointSignature: Buffer.alloc(0) };
  return encodePeerMessage({ kind: { $case: "vote", value: signVote(validator.signer, vote) } });
}

function checker(): { checker: InvariantChecker; at: (ms: number) => void } {
  let now = 0;
  return { checker: new InvariantChecker({ federation: fixture.federation, byzantine: new Set(), forksExpected: false, now: () => now }), at: (ms) => (now = ms) };
}

test("a second prevote after two stale restores is excused when the first fell in the first restore's window", () => {
  const { checker: invariants, at } = checker();
  at(100);
  invariants.onSend(validator.signer.name, prevote(1));
  at(300);
  invariants.markStale(validator.signer.name, 50);
  at(310);
  invariants.onSend(validator.signer.name, prevote(2));
  at(500);
  // A copy taken at 400 holds the second prevote, not the first: restored, it sends the second again.
  invariants.markStale(validator.signer.name, 400);
  at(510);
  invariants.onSend(validator.signer.name, prevote(2));
  expect(invariants.violations).toEqual([]);
  expect(invariants.staleDoubleSigns).toHaveLength(2);
});

test("a second, different prevote is a violation when the first was signed before the copy was taken, or with no stale restore at all", () => {
  const stale = checker();
  stale.at(100);
  stale.checker.onSend(validator.signer.name, prevote(1));
  stale.at(300);
  stale.checker.markStale(validator.signer.name, 200);
  stale.at(310);
  stale.checker.onSend(validator.signer.name, prevote(2));
  expect(stale.checker.violations.map((violation) => violation.invariant)).toEqual(["double-sign"]);
  const plain = checker();
  plain.checker.onSend(validator.signer.name, prevote(1));
  plain.checker.onSend(validator.signer.name, prevote(2));
  expect(plain.checker.violations.map((violation) => violation.invariant)).toEqual(["double-sign"]);
});
