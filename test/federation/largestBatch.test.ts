/**
 * Goal: the bound the federation file is checked against (largestBatchBytes: the largest batch must
 * fit in one peer message) is above what the largest batch really takes, so a federation that
 * passes the check can send every batch it commits.
 * Method: a batch made with every field at its largest (253-character names, 64-character labels,
 * the largest numbers, PDQ reveals) and its certificate, encoded as a sync answer carries it, for a
 * few sizes, against the bound. Likewise a Submit's full answer against what a gRPC client
 * receives by default, and at submissionsPerRequestMax's largest against what the CLI takes.
 */
import { BatchHeader, CommitCertificate, SignedVote, Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { SyncedBatch } from "../../src/gen/hashfed/v1/peer";
import { LogEntry, Reveal, Statement } from "../../src/gen/hashfed/v1/statement";
import { MEMBER_ANSWER_BYTES_MAX } from "../../src/client/memberConnection";
import { SubmitResponse } from "../../src/gen/hashfed/v1/member";
import { DEFAULT_PARAMETERS, largestBatchBytes, PARAMETER_RULES } from "../../src/federation/parameters";

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 2 ** 32 - 1;
const longestName = "n".repeat(253);
const filled = (bytes: number): Buffer => Buffer.alloc(bytes, 0xff);

function largestEntry(labels: number): { entry: LogEntry; reveal: Reveal } {
  const statement = Statement.encode({
    federationId: filled(32),
    submitter: longestName,
    createdAtMs: U64_MAX,
    nonce: filled(16),
    body: {
      $case: "addSignal",
      value: { signalType: "sha256", commitment: filled(32), labels: Array.from({ length: labels }, (_, i) => `${i}`.padEnd(64, "l")), taxonomyVersion: U32_MAX, quality: U32_MAX },
    },
  }).finish();
  return { entry: { statement: Buffer.from(statement), signature: filled(64) }, reveal: { salt: filled(16), value: filled(32) } };
}

function largestBatch(entries: number, labels: number, validators: number): Buffer {
  const header = BatchHeader.encode({
    federationId: filled(32),
    height: U64_MAX,
    previousHeaderHash: filled(32),
    treeSize: U64_MAX,
    root: filled(32),
    revealsDigest: filled(32),
    proposerTimeMs: U64_MAX,
    proposer: longestName,
    entryCount: U32_MAX,
  }).finish();
  const vote = Vote.encode({ federationId: filled(32), type: VoteType.VOTE_TYPE_PRECOMMIT, height: U64_MAX, round: U32_MAX, valueId: filled(32), validator: longestName, checkpointSignature: filled(68) }).finish();
  const precommit: SignedVote = { vote: Buffer.from(vote), signature: filled(64) };
  const certificate: CommitCertificate = { height: U64_MAX, round: U32_MAX, valueId: filled(32), precommits: Array.from({ length: validators }, () => precommit) };
  const made = Array.from({ length: entries }, () => largestEntry(labels));
  const batch = { header: Buffer.from(header), entries: made.map(({ entry }) => entry), reveals: made.map(({ reveal }) => reveal) };
  return Buffer.from(SyncedBatch.encode({ batch, certificate }).finish());
}

test.each([
  [1, 1, 1],
  [1000, 16, 4],
  [200, 256, 7],
  [10, 16, 256],
])("%d entries of %d labels, certified by %d validators, take less than the bound", (entries, labels, validators) => {
  const bytes = largestBatch(entries, labels, validators).length;
  const bound = largestBatchBytes({ ...DEFAULT_PARAMETERS, batchEntriesMax: entries, labelsPerStatementMax: labels }, validators);
  expect(bytes).toBeLessThan(bound);
  // Generous, not wildly so: the check should not refuse federations that would work.
  expect(bytes).toBeGreaterThan(bound / 3);
});

/** A Submit's answer of `count` acknowledgements, each with a proof in a tree of 2^`depth` entries, and a note cosigned by 256 members with the longest names. */
function submitAnswerBytes(count: number, depth: number): number {
  const acknowledgements = Array.from({ length: count }, () => ({
    statementId: filled(32),
    logIndex: (1n << BigInt(depth)) - 1n,
    alreadyPresent: true,
    inclusionProof: Array.from({ length: depth }, () => filled(32)),
  }));
  const checkpoint = `${"o".repeat(253)}\n${U64_MAX}\n${"A".repeat(44)}\n\n${`\u2014 ${longestName} ${"A".repeat(96)}\n`.repeat(256)}`;
  return SubmitResponse.encode({ acknowledgements, checkpoint }).finish().length;
}

test("a full Submit's answer fits a gRPC client's default 4 MiB at the default request size, and the CLI's bound at the largest", () => {
  // 10,000 submissions had committed and been answered with ~5 MB, which no client took.
  expect(submitAnswerBytes(DEFAULT_PARAMETERS.submissionsPerRequestMax, 40)).toBeLessThan(4 * 1024 * 1024);
  expect(submitAnswerBytes(PARAMETER_RULES.submissionsPerRequestMax.max, 64)).toBeLessThan(MEMBER_ANSWER_BYTES_MAX);
});
