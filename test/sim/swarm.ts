import { assert } from "../../src/assert";
import type { LinkFaults } from "./network";
import type { Prng } from "./prng";

/**
 * Swarm testing (Groce et al., 2012; TigerBeetle's VOPR): the fault *parameters* are themselves drawn
 * from the seed, and each fault class is switched off entirely in a share of seeds. One seed may
 * then run with heavy loss and no crashes, another with crashes and one-way partitions only: many
 * different stresses across seeds instead of one blend that masks them. Ranges follow VOPR's, in ms.
 *
 * `drawFaults` always makes the same draws in the same order, whatever their outcome, and `calm`
 * only zeroes the fault rates after drawing, so a calm run of a seed keeps that seed's delays: a
 * failing seed can be re-run calm to tell a fault-triggered bug from a plain one.
 */

export type PartitionKind = "symmetric" | "oneWay" | "isolateOne" | "randomHalves";

export const PARTITION_KINDS: readonly PartitionKind[] = ["symmetric", "oneWay", "isolateOne", "randomHalves"];

export interface SwarmFaults extends LinkFaults {
  /** Partitions start as a Poisson process at this rate (per second of virtual time), one at a time. */
  readonly partitionRatePerSecond: number;
  /** A partition lasts exponential(partitionMeanMs). */
  readonly partitionMeanMs: number;
  /** The kinds a partition may take (never empty). */
  readonly partitionKinds: readonly PartitionKind[];
  /** Each node crashes as a Poisson process at this rate (per second of virtual time). */
  readonly crashRatePerNodePerSecond: number;
  /** A crashed node restarts after a uniform delay in [min, max]; min > delayMaxMs, see drawFaults. */
  readonly restartDelayMinMs: number;
  readonly restartDelayMaxMs: number;
  /** Probability that a restart comes up from an old disk image instead of the crashed one. */
  readonly staleRestoreRate: number;
  /** How long a simulated disk write takes to become durable. */
  readonly diskWriteDelayMs: number;
}

export interface DrawFaultsOptions {
  /** No loss, duplication, partition, crash or stale restore: only delays (the same as the seed's chaotic run). */
  readonly calm?: boolean;
}

/** Share of seeds in which a given fault class is switched on at all (swarm testing's feature omission). */
export const FAULT_ENABLED_PROBABILITY = 0.6;
export const DELAY_MIN_MS_MAX = 3;
export const DELAY_MEAN_MS_MIN = 1;
export const DELAY_MEAN_MS_MAX = 10;
/** delayMaxMs = delayMinMs + delayMeanMs * a factor in [min, max]: the exponential tail is cut there. */
export const DELAY_TAIL_FACTOR_MIN = 2;
export const DELAY_TAIL_FACTOR_MAX = 8;
export const DROP_RATE_MAX = 0.3;
export const DUPLICATE_RATE_MAX = 0.5;
export const PARTITION_RATE_PER_SECOND_MAX = 0.3;
export const PARTITION_MEAN_MS_MIN = 50;
export const PARTITION_MEAN_MS_MAX = 2_000;
export const CRASH_RATE_PER_NODE_PER_SECOND_MAX = 0.1;
/** The shortest restart delay exceeds delayMaxMs by at least this much (and at most by the max). */
export const RESTART_MARGIN_MS_MIN = 1;
export const RESTART_MARGIN_MS_MAX = 50;
/** restartDelayMaxMs - restartDelayMinMs is at most this. */
export const RESTART_SPREAD_MS_MAX = 1_000;
export const STALE_RESTORE_RATE_MAX = 0.05;
export const DISK_WRITE_DELAY_MS_MAX = 2;

/** Rates are drawn in whole basis points (0.01 %), so reports print them exactly. */
const BASIS_POINTS = 10_000;
/** Disk delays are drawn in hundredths of a ms. */
const HUNDREDTHS = 100;

export function drawFaults(prng: Prng, options: DrawFaultsOptions): SwarmFaults {
  const delayMinMs = prng.int(0, DELAY_MIN_MS_MAX);
  const delayMeanMs = prng.int(DELAY_MEAN_MS_MIN, DELAY_MEAN_MS_MAX);
  const delayMaxMs = delayMinMs + delayMeanMs * prng.int(DELAY_TAIL_FACTOR_MIN, DELAY_TAIL_FACTOR_MAX);
  const dropRate = drawRate(prng, DROP_RATE_MAX);
  const duplicateRate = drawRate(prng, DUPLICATE_RATE_MAX);
  const partitionRatePerSecond = drawRate(prng, PARTITION_RATE_PER_SECOND_MAX);
  const partitionMeanMs = prng.int(PARTITION_MEAN_MS_MIN, PARTITION_MEAN_MS_MAX);
  const partitionKinds = drawPartitionKinds(prng);
  const crashRatePerNodePerSecond = drawRate(prng, CRASH_RATE_PER_NODE_PER_SECOND_MAX);
  const restartDelayMinMs = delayMaxMs + prng.int(RESTART_MARGIN_MS_MIN, RESTART_MARGIN_MS_MAX);
  const restartDelayMaxMs = restartDelayMinMs + prng.int(0, RESTART_SPREAD_MS_MAX);
  const staleRestoreRate = drawRate(prng, STALE_RESTORE_RATE_MAX);
  const diskWriteDelayMs = prng.int(0, DISK_WRITE_DELAY_MS_MAX * HUNDREDTHS) / HUNDREDTHS;
  const calm = options.calm === true;
  const faults: SwarmFaults = {
    delayMinMs,
    delayMeanMs,
    delayMaxMs,
    dropRate: calm ? 0 : dropRate,
    duplicateRate: calm ? 0 : duplicateRate,
    partitionRatePerSecond: calm ? 0 : partitionRatePerSecond,
    partitionMeanMs,
    partitionKinds,
    crashRatePerNodePerSecond: calm ? 0 : crashRatePerNodePerSecond,
    restartDelayMinMs,
    restartDelayMaxMs,
    staleRestoreRate: calm ? 0 : staleRestoreRate,
    diskWriteDelayMs,
  };
  checkFaults(faults);
  return faults;
}

/** One line for failure reports, e.g. "delay 1+exp(4)<=17ms, drop 12.5%, dup off, partitions 0.12/s ~800ms [oneWay,isolateOne], ...". */
export function describeFaults(faults: SwarmFaults): string {
  const partitions =
    faults.partitionRatePerSecond === 0 ? "partitions off" : `partitions ${rounded(faults.partitionRatePerSecond)}/s ~${faults.partitionMeanMs}ms [${faults.partitionKinds.join(",")}]`;
  const crashes =
    faults.crashRatePerNodePerSecond === 0
      ? "crashes off"
      : `crashes ${rounded(faults.crashRatePerNodePerSecond)}/node/s restart ${faults.restartDelayMinMs}..${faults.restartDelayMaxMs}ms stale ${percent(faults.staleRestoreRate)}`;
  return [
    `delay ${faults.delayMinMs}+exp(${faults.delayMeanMs})<=${faults.delayMaxMs}ms`,
    `drop ${percent(faults.dropRate)}`,
    `dup ${percent(faults.duplicateRate)}`,
    partitions,
    crashes,
    `disk write ${faults.diskWriteDelayMs}ms`,
  ].join(", ");
}

/** Asserts the relations the rest of the simulator relies on. */
export function checkFaults(faults: SwarmFaults): void {
  assert(faults.delayMaxMs >= faults.delayMinMs, "delayMaxMs < delayMinMs");
  assert(faults.restartDelayMinMs > faults.delayMaxMs, "a restart must come after every message of the crashed incarnation arrived");
  assert(faults.restartDelayMaxMs >= faults.restartDelayMinMs, "restartDelayMaxMs < restartDelayMinMs");
  assert(faults.partitionKinds.length > 0, "partitionKinds must not be empty");
  assert(faults.partitionMeanMs > 0, "partitionMeanMs must be > 0");
  assert(faults.dropRate >= 0 && faults.dropRate <= DROP_RATE_MAX, "dropRate out of range");
  assert(faults.duplicateRate >= 0 && faults.duplicateRate <= DUPLICATE_RATE_MAX, "duplicateRate out of range");
  assert(faults.staleRestoreRate >= 0 && faults.staleRestoreRate <= 1, "staleRestoreRate out of range");
  assert(faults.diskWriteDelayMs >= 0, "diskWriteDelayMs must be >= 0");
}

/** Off (0) in 1 - FAULT_ENABLED_PROBABILITY of seeds, else uniform in (0, max]. Draws the value even when off. */
function drawRate(prng: Prng, max: number): number {
  const enabled = prng.chance(FAULT_ENABLED_PROBABILITY);
  const basisPoints = prng.int(1, Math.round(max * BASIS_POINTS));
  return enabled ? basisPoints / BASIS_POINTS : 0;
}

/** A non-empty subset of the partition kinds, in the canonical order. Draws the fallback even when unused. */
function drawPartitionKinds(prng: Prng): PartitionKind[] {
  const chosen = PARTITION_KINDS.filter(() => prng.chance(0.5));
  const fallback = prng.pick(PARTITION_KINDS);
  return chosen.length > 0 ? chosen : [fallback];
}

/** A rate as printed: at most 4 decimals (scaled rates carry float noise). */
function rounded(rate: number): number {
  return Number(rate.toFixed(4));
}

function percent(rate: number): string {
  return rate === 0 ? "off" : `${(rate * 100).toFixed(2)}%`;
}
