import { assert } from "../assert";

/**
 * Vote thresholds by count of validators n (all validators have equal weight). Never the literal
 * "2f+1": with n = 30, f = 9 it gives 19, and two sets of 19 overlap in only 8 validators, fewer
 * than f + 1, so both could be vouched for by faulty validators alone (reference/consensus.md, §0 item 3).
 */

function checkValidatorCount(validatorCount: number): void {
  assert(Number.isInteger(validatorCount), `a validator count is an integer, got ${validatorCount}`);
  assert(validatorCount >= 1, `a federation has at least one validator, got ${validatorCount}`);
}

/**
 * More than two thirds: floor(2n/3) + 1. Any two quorums overlap in more than f validators, so in
 * at least one correct one, which never votes for two values; and the n - f correct validators
 * form a quorum on their own (the two are equal for every n).
 */
export function quorumSize(validatorCount: number): number {
  checkValidatorCount(validatorCount);
  return Math.floor((2 * validatorCount) / 3) + 1;
}

/** More than one third: floor(n/3) + 1, so at least one correct validator is among them (Tendermint line 55). */
export function roundSkipSize(validatorCount: number): number {
  checkValidatorCount(validatorCount);
  return Math.floor(validatorCount / 3) + 1;
}

/** The most faulty validators the federation tolerates: the largest f with 3f < n, floor((n - 1) / 3). */
export function faultTolerance(validatorCount: number): number {
  checkValidatorCount(validatorCount);
  return Math.floor((validatorCount - 1) / 3);
}
