import { HashfedError } from "../errors";
import { hashLeaf, ProofError, verifyConsistency } from "../log";
import { checkEntryInclusion } from "./entryInclusion";
import { ENTRIES_PER_CALL_MAX, type LogNode } from "./logNode";
import { EntryError, type LogReplay, type PreparedEntries, REPLAY_ENTRIES_MAX, replayRuns } from "./logReplay";
import type { ObservedCheckpoint } from "./observedCheckpoint";
import type { SignatureWorkers } from "./signatureWorkers";

export interface ReplayProgress {
  readonly done: bigint;
  readonly total: bigint;
  readonly seconds: number;
}

export interface ReplayTarget {
  /** The checkpoint to replay up to: its size is where the replay stops, its root what it must reach. */
  readonly checkpoint: ObservedCheckpoint;
  /** A node serving that checkpoint's tree, which sends the entries and the proofs. */
  readonly node: LogNode;
  /** The roots of other verified checkpoints, by size: the replay must pass through each. */
  readonly knownRoots: ReadonlyMap<bigint, Buffer>;
}

/** Runs whose entries are being fetched while earlier ones are checked: enough to hide a round trip. */
const RUNS_FETCHED_AHEAD = 4;
/** Runs waiting for their signature checks: enough to keep every worker busy while one run is applied. */
const RUNS_VERIFIED_AHEAD = 6;
/** Root checks (a consistency proof each) in flight behind the replay. */
const ROOT_CHECKS_AHEAD = 8;

interface RunInFlight {
  readonly prepared: PreparedEntries;
  readonly signatures: Promise<Uint8Array>;
}

/** Set by replayTo when it fails: whether the replay still stands, every entry in it under a checked root. */
export interface ReplayStop {
  stands: boolean;
}

/**
 * Replays the log from where `replay` stands up to the target checkpoint, from the target's node:
 * runs of up to 1000 entries fetched ahead, parsed and hashed on this thread, their signatures
 * checked on the workers, applied in order. After each run the replay's root is checked against
 * the target, by a consistency proof from the run's end (or directly, at a size with a known root),
 * so a bad entry is found within its run and then pinned down with inclusion proofs
 * (checkEntryInclusion). Throws a HashfedError at the first failure. When entries could not be
 * fetched (a node gone away), the runs fetched before are applied and checked first, and `stop`
 * then says the replay stands, so that the next round can go on from it.
 */
export async function replayTo(
  replay: LogReplay,
  workers: SignatureWorkers,
  target: ReplayTarget,
  stop: ReplayStop,
  onProgress?: (progress: ReplayProgress) => void,
): Promise<void> {
  stop.stands = false;
  const size = target.checkpoint.verified.checkpoint.size;
  if (size > REPLAY_ENTRIES_MAX) {
    throw new HashfedError("exhausted", "REPLAY_TOO_LARGE", `a full replay holds at most ${REPLAY_ENTRIES_MAX} entries in memory; the checkpoint is of size ${size}: audit it by samples`);
  }
  const from = replay.size;
  const runs = replayRuns(from, size, target.knownRoots.keys(), ENTRIES_PER_CALL_MAX);
  const started = process.hrtime.bigint();
  replay.reserve(size);
  const fetches: (Promise<Buffer[]> | undefined)[] = [];
  const fetch = (position: number): void => {
    if (position >= runs.length) return;
    const run = runs[position]!;
    fetches[position] = settled(target.node.leaves(run.start, run.end));
  };
  for (let position = 0; position < RUNS_FETCHED_AHEAD; position++) fetch(position);
  const verifying: RunInFlight[] = [];
  const checking: Promise<void>[] = [];
  const applyOldest = async (): Promise<void> => {
    const { prepared, signatures } = verifying.shift()!;
    const valid = await signatures;
    try {
      replay.apply(prepared, valid);
    } catch (error) {
      throw await attribute(target, error, (index) => prepared.leafHashes[Number(index - prepared.start)]!);
    }
    checking.push(settled(checkRoot(target, prepared, replay.root())));
    if (checking.length > ROOT_CHECKS_AHEAD) await checking.shift();
    onProgress?.({ done: replay.size - from, total: size - from, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
  };
  // Everything before a run is checked before that run's own failure is reported: the first
  // problem in log order is the one the report names.
  const finishEarlierRuns = async (): Promise<void> => {
    while (verifying.length > 0) await applyOldest();
    for (const check of checking) await check;
  };
  for (let position = 0; position < runs.length; position++) {
    let leaves: Buffer[];
    try {
      leaves = await fetches[position]!;
    } catch (error) {
      // The runs fetched before are applied and checked first: a failure among them comes first in the log.
      await finishEarlierRuns();
      stop.stands = true;
      throw error;
    }
    fetches[position] = undefined;
    fetch(position + RUNS_FETCHED_AHEAD);
    const start = runs[position]!.start;
    let prepared: PreparedEntries;
    try {
      prepared = replay.prepare(start, leaves);
    } catch (error) {
      await finishEarlierRuns();
      throw await attribute(target, error, (index) => hashLeaf(leaves[Number(index - start)]!));
    }
    verifying.push({ prepared, signatures: settled(workers.verify(prepared)) });
    if (verifying.length > RUNS_VERIFIED_AHEAD) await applyOldest();
  }
  await finishEarlierRuns();
}

/**
 * The replay's root after `prepared` must be the target tree's root at that size: compared directly
 * where a checkpoint gives it, otherwise through a consistency proof to the target.
 */
async function checkRoot(target: ReplayTarget, prepared: PreparedEntries, root: Buffer): Promise<void> {
  const { size: targetSize, root: targetRoot } = target.checkpoint.verified.checkpoint;
  const end = prepared.start + BigInt(prepared.statements.length);
  const known = target.knownRoots.get(end) ?? (end === targetSize ? targetRoot : undefined);
  let failure: string;
  if (known !== undefined) {
    if (known.equals(root)) return;
    failure = `the entries [0, ${end}) as served hash to root ${root.toString("base64")}, not to the root ${known.toString("base64")} of the checkpoint of size ${end}`;
  } else {
    try {
      verifyConsistency(end, targetSize, root, targetRoot, await target.node.consistencyProof(end, targetSize));
      return;
    } catch (error) {
      if (!(error instanceof ProofError)) throw error;
      failure = `the consistency proof from the entries [0, ${end}) as served to the checkpoint of size ${targetSize} does not verify: ${error.message}`;
    }
  }
  await locateBadEntry(target, prepared);
  throw new HashfedError("invalid", "NODE_PROOF_INVALID", `${target.node.address}: ${failure}, yet each of entries [${prepared.start}, ${end}) is proven part of the checkpoint by an inclusion proof`);
}

/** Inclusion proofs asked for at once while locating a bad entry: a run is up to 1,000 entries, each a call. */
const LOCATING_PROOFS_IN_FLIGHT = 16;

/** Checks each entry of a run that failed its root check with an inclusion proof, throwing at the first (in log order) that fails. */
async function locateBadEntry(target: ReplayTarget, prepared: PreparedEntries): Promise<void> {
  const { size } = target.checkpoint.verified.checkpoint;
  const count = prepared.leafHashes.length;
  for (let first = 0; first < count; first += LOCATING_PROOFS_IN_FLIGHT) {
    const positions = Array.from({ length: Math.min(LOCATING_PROOFS_IN_FLIGHT, count - first) }, (_, offset) => first + offset);
    const served = await Promise.all(positions.map((position) => target.node.inclusionProof(prepared.start + BigInt(position), size)));
    positions.forEach((position, i) => checkEntryInclusion(prepared.start + BigInt(position), prepared.leafHashes[position]!, served[i]!, target.checkpoint.verified, target.node.address));
  }
}

/**
 * Whose fault a broken entry is. If the node cannot prove the entry it served part of the target's
 * tree, the node served something else (checkEntryInclusion says what); if it can, a quorum of
 * validators committed an entry that breaks a rule, and the error says so.
 */
async function attribute(target: ReplayTarget, error: unknown, leafHashOf: (index: bigint) => Buffer): Promise<unknown> {
  if (!(error instanceof EntryError)) return error;
  const { size } = target.checkpoint.verified.checkpoint;
  try {
    checkEntryInclusion(error.index, leafHashOf(error.index), await target.node.inclusionProof(error.index, size), target.checkpoint.verified, target.node.address);
  } catch (inclusionError) {
    return inclusionError;
  }
  return new HashfedError(error.kind, error.code, `entry ${error.index}, committed under the checkpoint of size ${size} (shown by an inclusion proof): ${error.reason.message}`);
}

/** The same promise, marked as handled: it is awaited later, in order, and may fail before that. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
