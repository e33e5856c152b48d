/**
 * Goal: the vote keeper's tallies and thresholds are exact at the 2/3 and 1/3 boundaries, each
 * validator counts once per (round, kind, value), an equivocator's votes count for each value it
 * signed (no hidden polka, erratum 6), and the proposer rotation is fair.
 * Method: property tests over validator-set sizes 1..31 against plain counting.
 */
import fc from "fast-check";
import { proposerOf, VOTES_PER_VALIDATOR_MAX, VoteKeeper } from "../../src/consensus";
import { quorumSize, roundSkipSize } from "../../src/federation";

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${String(i).padStart(2, "0")}`);

function keeper(n: number): VoteKeeper<string> {
  return new VoteKeeper<string>(new Set(names(n)), quorumSize(n), roundSkipSize(n));
}

test("a quorum is reached by exactly floor(2n/3)+1 distinct validators, never by fewer", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 31 }), (n) => {
      const votes = keeper(n);
      const validators = names(n);
      for (const [i, validator] of validators.entries()) {
        expect(votes.hasQuorumFor("prevote", 0, "X")).toBe(i >= quorumSize(n));
        votes.add({ kind: "prevote", round: 0, valueId: "X", validator, payload: validator });
        expect(votes.hasQuorumFor("prevote", 0, "X")).toBe(i + 1 >= quorumSize(n));
        expect(3 * Math.min(i + 1, quorumSize(n) - 1)).toBeLessThanOrEqual(2 * n); // below a quorum is at most 2/3
      }
    }),
  );
});

test("the round skip needs floor(n/3)+1 validators heard in one higher round", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 31 }), (n) => {
      const votes = keeper(n);
      names(n).forEach((validator, i) => {
        expect(votes.skipTarget(0)).toBe(i >= roundSkipSize(n) ? 5 : undefined);
        votes.heardFrom(5, validator);
      });
      expect(votes.skipTarget(5)).toBeUndefined();
    }),
  );
});

test("a second, different vote is equivocation and counts for its own value; the same vote again is ignored", () => {
  const votes = keeper(4);
  expect(votes.add({ kind: "precommit", round: 2, valueId: "X", validator: "v01", payload: "a" })).toEqual({ kind: "added" });
  expect(votes.add({ kind: "precommit", round: 2, valueId: "X", validator: "v01", payload: "a again" })).toEqual({ kind: "repeated" });
  const second = votes.add({ kind: "precommit", round: 2, valueId: null, validator: "v01", payload: "b" });
  expect(second).toEqual({ kind: "equivocation", first: expect.objectContaining({ payload: "a" }) });
  expect(votes.votesFor("precommit", 2, "X").map((vote) => vote.payload)).toEqual(["a"]);
  expect(votes.votesFor("precommit", 2, null).map((vote) => vote.payload)).toEqual(["b"]);
  expect(votes.add({ kind: "precommit", round: 2, valueId: null, validator: "v01", payload: "b again" })).toEqual({ kind: "repeated" });
  // A prevote in the same round is another kind: not equivocation.
  expect(votes.add({ kind: "prevote", round: 2, valueId: null, validator: "v01", payload: "c" })).toEqual({ kind: "added" });
});

test("whichever of an equivocator's votes arrives first, every node sees the same polka (no hidden lock)", () => {
  for (const order of [["X", null], [null, "X"]] as const) {
    const votes = keeper(4);
    for (const valueId of order) votes.add({ kind: "prevote", round: 0, valueId, validator: "v03", payload: `v03 ${valueId}` });
    for (const validator of ["v00", "v01"]) votes.add({ kind: "prevote", round: 0, valueId: "X", validator, payload: validator });
    expect(votes.hasQuorumFor("prevote", 0, "X")).toBe(true);
  }
});

test("a spamming equivocator's votes are bounded, yet its vote that completes a polka still counts", () => {
  const votes = keeper(4);
  for (let i = 0; i < VOTES_PER_VALIDATOR_MAX + 3; i++) votes.add({ kind: "prevote", round: 0, valueId: `V${i}`, validator: "v02", payload: `${i}` });
  expect(votes.votesInRound(0)).toHaveLength(VOTES_PER_VALIDATOR_MAX);
  for (const validator of ["v00", "v01"]) votes.add({ kind: "prevote", round: 0, valueId: "X", validator, payload: validator });
  expect(votes.add({ kind: "prevote", round: 0, valueId: "X", validator: "v02", payload: "v02 X" }).kind).toBe("equivocation");
  expect(votes.hasQuorumFor("prevote", 0, "X")).toBe(true);
});

test("precommit quorums are found in any round", () => {
  const votes = keeper(4);
  for (const validator of ["v00", "v01", "v02"]) votes.add({ kind: "precommit", round: 7, valueId: "Y", validator, payload: validator });
  for (const validator of ["v00", "v01", "v02"]) votes.add({ kind: "precommit", round: 1, valueId: null, validator, payload: validator });
  expect(votes.roundsWithPrecommitQuorum()).toEqual([{ round: 7, valueId: "Y" }]);
});

test("every validator proposes once in any n consecutive rounds", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 31 }), fc.bigInt({ min: 1n, max: 1n << 62n }), fc.nat(1000), (n, height, round) => {
      const validators = names(n);
      const proposers = new Set(Array.from({ length: n }, (_, i) => proposerOf(validators, height, round + i)));
      expect(proposers.size).toBe(n);
    }),
  );
});
