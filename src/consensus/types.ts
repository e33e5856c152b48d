/**
 * The consensus core's vocabulary. Heights are 64-bit; rounds are small. A value is named by its id
 * (id(v) = SHA-256 of the batch header) in lower-case hex, so ids compare and key maps as strings.
 */
export type Height = bigint;
export type Round = number;
export type ValueId = string;

/** The steps of a round, in order: "step >= prevote" compares them. */
export enum Step {
  Propose = 0,
  Prevote = 1,
  Precommit = 2,
}

export type VoteKind = "prevote" | "precommit";
export type TimeoutKind = "propose" | "prevote" | "precommit";

/** The round timeouts: round r waits `base + r * deltaMs` (linear growth, as in the paper and CometBFT). */
export interface TimeoutConfig {
  readonly proposeMs: number;
  readonly prevoteMs: number;
  readonly precommitMs: number;
  readonly deltaMs: number;
}

export function timeoutMs(config: TimeoutConfig, kind: TimeoutKind, round: Round): number {
  const base = kind === "propose" ? config.proposeMs : kind === "prevote" ? config.prevoteMs : config.precommitMs;
  return base + round * config.deltaMs;
}
