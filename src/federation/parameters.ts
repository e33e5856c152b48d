import { describe, didYouMean, expectInteger, fieldError, fieldPath, isPlainObject } from "./fields";

/**
 * The federation's parameters: every node of a federation must run with the same values, so they
 * live in the federation file (and its id), not in each node's configuration. Each is optional in
 * the file and has a default; each must be an integer within its range.
 */
export interface FederationParameters {
  readonly pdqDistanceMax: number;
  readonly pdqQualityMin: number;
  readonly labelsPerStatementMax: number;
  readonly submissionsPerRequestMax: number;
  readonly batchEntriesMax: number;
  readonly followBatchEntriesMax: number;
  readonly timeoutProposeMs: number;
  readonly timeoutPrevoteMs: number;
  readonly timeoutPrecommitMs: number;
  readonly timeoutDeltaMs: number;
  readonly mempoolStatementsMax: number;
  readonly mempoolPerSubmitterMax: number;
  readonly messageBytesMax: number;
}

export type ParameterName = keyof FederationParameters;

interface ParameterRule {
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
}

const MINUTE_MS = 60_000;

export const PARAMETER_RULES: { readonly [name in ParameterName]: ParameterRule } = Object.freeze({
  // The PDQ reference's match distance is 31. 63 is the most a 16 x 16-bit multi-index search
  // covers (3 bit flips per chunk); further out, unrelated images start to match.
  pdqDistanceMax: { defaultValue: 31, min: 0, max: 63 },
  // The PDQ reference discards quality 49 and below: near-flat images match unrelated content.
  pdqQualityMin: { defaultValue: 50, min: 0, max: 100 },
  // Bounds a statement's size; a signal with dozens of labels is a mistake, not a classification.
  labelsPerStatementMax: { defaultValue: 16, min: 1, max: 256 },
  // Bounds the work and memory one Submit call can demand of a node. Its answer carries an
  // inclusion proof per submission, about 1.4 KB in a log of 2^40 entries: up to about 2,000 fit a
  // gRPC client's default 4 MiB, and a client of a federation that allows more must take larger
  // messages (the CLI takes MEMBER_ANSWER_BYTES_MAX).
  submissionsPerRequestMax: { defaultValue: 1000, min: 1, max: 10_000 },
  // Bounds a proposal and the time to validate it: at ~12,000 signature checks a second, 1000
  // entries take ~80 ms and 10,000 take ~0.8 s, still within a propose timeout.
  batchEntriesMax: { defaultValue: 1000, min: 1, max: 10_000 },
  // Entries a Follow stream reads from the store at a time: bounds the memory each follower costs.
  followBatchEntriesMax: { defaultValue: 256, min: 1, max: 10_000 },
  // Round timeouts of Tendermint; round r waits timeout + r * timeoutDeltaMs. Ten minutes is far
  // beyond any sane network delay.
  timeoutProposeMs: { defaultValue: 1000, min: 1, max: 10 * MINUTE_MS },
  timeoutPrevoteMs: { defaultValue: 1000, min: 1, max: 10 * MINUTE_MS },
  timeoutPrecommitMs: { defaultValue: 1000, min: 1, max: 10 * MINUTE_MS },
  // At least 1: timeouts must grow until they exceed the (unknown) network delay, or a slow
  // network could keep every round from deciding.
  timeoutDeltaMs: { defaultValue: 500, min: 1, max: 10 * MINUTE_MS },
  // Bounds the memory of uncommitted statements (about 2 KB each with their reveals).
  mempoolStatementsMax: { defaultValue: 100_000, min: 1, max: 10_000_000 },
  // One member cannot fill the mempool and starve the others.
  mempoolPerSubmitterMax: { defaultValue: 20_000, min: 1, max: 10_000_000 },
  // gRPC's default receive limit is 4 MiB; bounds the memory one message can take.
  messageBytesMax: { defaultValue: 4 * 1024 * 1024, min: 64 * 1024, max: 64 * 1024 * 1024 },
});

export const PARAMETER_NAMES: readonly ParameterName[] = Object.freeze(Object.keys(PARAMETER_RULES) as ParameterName[]);

export const DEFAULT_PARAMETERS: FederationParameters = Object.freeze(
  Object.fromEntries(PARAMETER_NAMES.map((name) => [name, PARAMETER_RULES[name].defaultValue])) as unknown as FederationParameters,
);

/** The parameters at `path` of the file (undefined when the file has none), defaults filled in. */
export function parseParameters(value: unknown, path: string): FederationParameters {
  if (value === undefined) return DEFAULT_PARAMETERS;
  if (!isPlainObject(value)) throw fieldError(path, `must be a JSON object, got ${describe(value)}`);
  const parameters: Record<string, number> = { ...DEFAULT_PARAMETERS };
  for (const [name, given] of Object.entries(value)) {
    if (!(PARAMETER_NAMES as readonly string[]).includes(name)) {
      throw fieldError(fieldPath(path, name), `unknown parameter${didYouMean(name, PARAMETER_NAMES)}; the parameters are ${PARAMETER_NAMES.join(", ")}`);
    }
    const rule = PARAMETER_RULES[name as ParameterName];
    parameters[name] = expectInteger(given, fieldPath(path, name), rule.min, rule.max);
  }
  const result = parameters as unknown as FederationParameters;
  checkParameterRelations(result, path);
  return Object.freeze(result);
}

/** Relations between parameters that would make a federation unable to work as configured. */
function checkParameterRelations(parameters: FederationParameters, path: string): void {
  // A member's quota must fit in the whole mempool, or it means nothing.
  atMost(parameters, path, "mempoolPerSubmitterMax", "mempoolStatementsMax");
  // A full Submit request from one member must fit in that member's mempool quota.
  atMost(parameters, path, "submissionsPerRequestMax", "mempoolPerSubmitterMax");
}

function atMost(parameters: FederationParameters, path: string, smaller: ParameterName, larger: ParameterName): void {
  if (parameters[smaller] > parameters[larger]) {
    throw fieldError(
      fieldPath(path, smaller),
      `must be at most ${larger} (${parameters[larger]}), got ${parameters[smaller]}`,
    );
  }
}

/**
 * Generous bounds of what a committed batch takes on the wire: an entry with its signature and
 * reveal, apart from its labels (its submitter's name is at most 253 bytes); a label (up to 64
 * characters, and its field's framing); the header and the certificate's own fields; and one
 * precommit of the certificate (the validator's name, its signatures). test/federation checks them
 * against the largest batch the encoders make.
 */
const ENTRY_BYTES_BEYOND_LABELS_MAX = 1024;
const LABEL_BYTES_MAX = 66;
const BATCH_BYTES_BEYOND_ENTRIES_MAX = 1024;
const PRECOMMIT_BYTES_MAX = 1024;

/** The most bytes one committed batch, with its reveals and certificate, can take under these parameters. */
export function largestBatchBytes(parameters: FederationParameters, validatorCount: number): number {
  const entryBytes = ENTRY_BYTES_BEYOND_LABELS_MAX + parameters.labelsPerStatementMax * LABEL_BYTES_MAX;
  return parameters.batchEntriesMax * entryBytes + BATCH_BYTES_BEYOND_ENTRIES_MAX + validatorCount * PRECOMMIT_BYTES_MAX;
}

/**
 * A batch travels whole in one peer message (a sync answer, a proposal's batch asked for), so the
 * largest the parameters allow must fit in messageBytesMax: a height of such statements could
 * otherwise never reach a node that lacks it.
 */
export function checkLargestBatchFits(parameters: FederationParameters, validatorCount: number, path: string): void {
  const largest = largestBatchBytes(parameters, validatorCount);
  if (largest > parameters.messageBytesMax) {
    throw fieldError(
      fieldPath(path, "messageBytesMax"),
      `must hold the largest batch: ${parameters.batchEntriesMax} entries (batchEntriesMax) of up to ${parameters.labelsPerStatementMax} labels (labelsPerStatementMax), certified by ${validatorCount} validators, take up to ${largest} bytes, got ${parameters.messageBytesMax}; raise messageBytesMax or lower batchEntriesMax`,
    );
  }
}
