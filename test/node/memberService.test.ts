/**
 * Goal: the Member service keeps the promises a member platform builds on: submitting is
 * idempotent (by statement bytes, and by meaning for what the node signs itself), every
 * acknowledgement and every match proof verifies against the cosigned checkpoint returned with it,
 * retracted entries never match, GetEntry, Follow and Status tell the truth about the log, the
 * service is guarded off loopback, and health checking and reflection answer.
 * Method: one in-process node (test/support/inProcessNode.ts) on loopback for the whole file,
 * driven through real gRPC clients (src/client/rpc.ts); every proof is checked with the auditor's
 * own functions (verifyCosignedCheckpoint, verifyInclusion) against leaves read from the Log
 * service. A few tests start a second, short-lived node (token guard, start failures).
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import * as http2 from "node:http2";
import { chmod, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server as NetServer } from "node:net";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { type ClientReadableStream, credentials, loadPackageDefinition, makeGenericClientConstructor, type ServiceError, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthService } from "grpc-health-check";
import { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "../../src/audit";
import { signVote, verifyEvidence } from "../../src/consensus";
import { call, connectLog, connectMember, type Connection, describeRpcError, errorCodeOf } from "../../src/client/rpc";
import { KeySigner } from "../../src/crypto";
import type { LogClient } from "../../src/gen/hashfed/v1/log";
import type { EntryView, MatchQuery, MemberClient, Submission, SubmitResponse } from "../../src/gen/hashfed/v1/member";
import { MATCH_TOO_MANY_MATCHES, MATCHES_PER_CALL_MAX } from "../../src/node/matchQueries";
import { BatchHeader, type SignedVote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { LogEntry, RetractReason } from "../../src/gen/hashfed/v1/statement";
import { hashLeaf, verifyInclusion } from "../../src/log";
import { CALLS_PER_CONNECTION_MAX, HashfedNode, type NodeOptions } from "../../src/node/hashfedNode";
import { freeLoopbackPort } from "../../src/cli/loopbackPort";
import { commitment, type SignalTypeName } from "../../src/signals";
import { encodeAddSignal, signStatement, statementIdOf } from "../../src/statements";
import { startInProcessNode, type TestFederation, testFederation } from "../support/inProcessNode";
import { CLI, soloFederation } from "../support/cluster";
import { randomHex32, rpcRejection } from "../support/submissions";
import { makeTestCertificates } from "../support/testCertificates";
import type { MemberTls } from "../../src/node/memberTls";

const execFileAsync = promisify(execFile);
/** The compiled build (npm test builds it first), for the one test that must run in a child process. */
const DIST = join(dirname(CLI), "../..");

let setup: TestFederation;
let node: HashfedNode;
let member: Connection<MemberClient>;
let log: Connection<LogClient>;

const add = (signalType: SignalTypeName, value: string, labels = ["graphic-violence"], quality = 90): Submission => ({
  kind: { $case: "add", value: { signalType, value, labels, quality } },
});
const retract = (target: Buffer, reason = RetractReason.RETRACT_REASON_FALSE_POSITIVE): Submission => ({
  kind: { $case: "retract", value: { target, reason } },
});
const submit = (...submissions: Submission[]): Promise<SubmitResponse> => call(member, member.client.submit, { submissions });
const currentStatus = () => call(member, member.client.status, {});

/** A sha256 AddSignal signed by the validator's own key, as a member's own signing system would. */
function signedAdd(): Submission {
  const salt = randomBytes(16);
  const value = randomBytes(32);
  const bytes = encodeAddSignal(
    { federationId: setup.federation.id, submitter: setup.key.name, createdAtMs: 1n, nonce: randomBytes(16) },
    { signalType: "sha256", value, labels: ["graphic-violence"], taxonomyVersion: setup.federation.taxonomy.version, quality: 0, salt },
  );
  const signed = signStatement(new KeySigner(setup.key), bytes);
  return { kind: { $case: "signed", value: { entry: { statement: signed.bytes, signature: signed.signature }, reveal: { salt, value } } } };
}

/** The leaf hash of the entry at `index`, from what the Log service serves (the auditor's view). */
async function leafAt(index: bigint): Promise<{ leafHash: Buffer; statementId: Buffer }> {
  const { entries } = await call(log, log.client.getEntries, { start: index, end: index + 1n });
  return { leafHash: hashLeaf(LogEntry.encode(entries[0]!).finish()), statementId: statementIdOf(entries[0]!.statement) };
}

/**
 * Checks a Submit response as a member should before trusting it: the checkpoint is cosigned by a
 * quorum, and every acknowledgement's proof puts the acknowledged statement at its index in it.
 */
async function expectAcknowledgementsVerify(response: SubmitResponse): Promise<VerifiedCheckpoint> {
  const verified = verifyCosignedCheckpoint(setup.federation, response.checkpoint);
  expect(response.acknowledgements.length).toBeGreaterThan(0);
  for (const ack of response.acknowledgements) {
    const { leafHash, statementId } = await leafAt(ack.logIndex);
    expect(statementId.toString("hex")).toBe(ack.statementId.toString("hex"));
    expect(() => verifyInclusion(ack.logIndex, verified.checkpoint.size, leafHash, ack.inclusionProof, verified.checkpoint.root)).not.toThrow();
  }
  return verified;
}

/** Reads `count` items from a server stream, failing after `ms`. */
function take<T>(stream: ClientReadableStream<T>, count: number, ms = 5000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    const timer = setTimeout(() => {
      stream.off("data", onData);
      reject(new Error(`timed out after ${items.length} of ${count} items`));
    }, ms);
    const onData = (item: T): void => {
      items.push(item);
      if (items.length === count) {
        clearTimeout(timer);
        stream.off("data", onData);
        resolve(items);
      }
    };
    stream.on("data", onData);
    stream.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Cancels a Follow stream and waits until the client has seen it end, so the node can stop. */
function cancel<T>(stream: ClientReadableStream<T>): Promise<void> {
  return new Promise((resolve) => {
    stream.on("error", () => resolve());
    stream.on("end", () => resolve());
    stream.on("status", () => resolve());
    stream.cancel();
  });
}

const HealthClient = makeGenericClientConstructor(healthService, "Health");
type Health = InstanceType<typeof HealthClient> & {
  check(request: { service: string }, callback: (error: ServiceError | null, response: { status: string }) => void): void;
};

/** The health status of `service` on a port, through /grpc.health.v1.Health/Check. */
function check(port: number, service: string, channel = credentials.createInsecure()): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, channel) as Health;
  return new Promise<string>((resolve, reject) => client.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status)))).finally(() => client.close());
}

beforeAll(async () => {
  setup = await testFederation();
  node = await startInProcessNode(setup);
  member = connectMember(`127.0.0.1:${node.memberPort}`);
  log = connectLog(`127.0.0.1:${node.publicPort}`);
});

afterAll(async () => {
  member.client.close();
  log.client.close();
  await node.stop();
  await rm(setup.folder, { recursive: true, force: true });
});

describe("Submit is idempotent", () => {
  test("the same signed statement twice: same id and index, already_present the second time, one entry", async () => {
    const statement = signedAdd();
    const first = await submit(statement);
    const sizeAfterFirst = (await currentStatus()).treeSize;
    const second = await submit(statement);
    expect(first.acknowledgements[0]!.alreadyPresent).toBe(false);
    expect(second.acknowledgements[0]).toMatchObject({
      statementId: first.acknowledgements[0]!.statementId,
      logIndex: first.acknowledgements[0]!.logIndex,
      alreadyPresent: true,
    });
    expect((await currentStatus()).treeSize).toBe(sizeAfterFirst);
    await expectAcknowledgementsVerify(first);
    await expectAcknowledgementsVerify(second);
  });

  // Once a bug: two copies of one signed statement in a request failed the request as a duplicate on
  // the log.
  test("the same signed statement twice in one request: two acknowledgements of one entry", async () => {
    const statement = signedAdd();
    const response = await submit(statement, statement);
    const [a, b] = response.acknowledgements;
    expect(b!.statementId.equals(a!.statementId)).toBe(true);
    expect(b!.logIndex).toBe(a!.logIndex);
    await expectAcknowledgementsVerify(response);
  });

  test("adding a signal the member already has live acknowledges the existing entry", async () => {
    const value = randomHex32();
    const first = await submit(add("sha256", value));
    const size = (await currentStatus()).treeSize;
    const again = await submit(add("sha256", value));
    const pdqValue = randomHex32();
    const pdqFirst = await submit(add("pdq", pdqValue));
    const pdqAgain = await submit(add("pdq", pdqValue));
    expect(again.acknowledgements[0]).toMatchObject({ statementId: first.acknowledgements[0]!.statementId, logIndex: first.acknowledgements[0]!.logIndex, alreadyPresent: true });
    expect(pdqAgain.acknowledgements[0]).toMatchObject({ statementId: pdqFirst.acknowledgements[0]!.statementId, logIndex: pdqFirst.acknowledgements[0]!.logIndex, alreadyPresent: true });
    expect((await currentStatus()).treeSize).toBe(size + 1n); // only the pdq entry was added since
    for (const response of [first, again, pdqFirst, pdqAgain]) await expectAcknowledgementsVerify(response);
  });

  test("the same signal twice in one request: one entry committed, two acknowledgements with the same id", async () => {
    const before = (await currentStatus()).treeSize;
    const value = randomHex32();
    const response = await submit(add("sha256", value), add("sha256", value));
    const [a, b] = response.acknowledgements;
    expect(response.acknowledgements).toHaveLength(2);
    expect(b!.statementId.equals(a!.statementId)).toBe(true);
    expect(b!.logIndex).toBe(a!.logIndex);
    expect((await currentStatus()).treeSize).toBe(before + 1n);
    const verified = await expectAcknowledgementsVerify(response);
    expect(verified.checkpoint.size).toBe(before + 1n);
  });

  // Once a bug: two requests adding the same signal at once were both signed and committed, two entries
  // for one signal.
  test("two concurrent requests adding the same signal get one entry", async () => {
    const value = randomHex32();
    const [a, b] = await Promise.all([submit(add("sha256", value)), submit(add("sha256", value))]);
    expect(b.acknowledgements[0]!.statementId.toString("hex")).toBe(a.acknowledgements[0]!.statementId.toString("hex"));
    expect(b.acknowledgements[0]!.logIndex).toBe(a.acknowledgements[0]!.logIndex);
  });

  test("retracting an already-retracted entry acknowledges the existing retraction", async () => {
    const [added] = (await submit(add("md5", randomBytes(16).toString("hex")))).acknowledgements;
    const first = await submit(retract(added!.statementId));
    const size = (await currentStatus()).treeSize;
    const second = await submit(retract(added!.statementId, RetractReason.RETRACT_REASON_DUPLICATE));
    expect(first.acknowledgements[0]!.alreadyPresent).toBe(false);
    expect(second.acknowledgements[0]).toMatchObject({
      statementId: first.acknowledgements[0]!.statementId,
      logIndex: first.acknowledgements[0]!.logIndex,
      alreadyPresent: true,
    });
    expect((await currentStatus()).treeSize).toBe(size);
    await expectAcknowledgementsVerify(first);
    await expectAcknowledgementsVerify(second);
  });

  test("a mixed request of new and already-present submissions verifies against one checkpoint", async () => {
    const known = randomHex32();
    await submit(add("sha256", known));
    const response = await submit(add("sha256", randomHex32()), add("sha256", known), add("md5", randomBytes(16).toString("hex")));
    expect(response.acknowledgements.map((ack) => ack.alreadyPresent)).toEqual([false, true, false]);
    await expectAcknowledgementsVerify(response);
  });
});

describe("Match", () => {
  test("with include_proof returns proofs that verify against the returned checkpoint", async () => {
    const pdq = randomBytes(32);
    const sha = randomHex32();
    await submit(add("pdq", pdq.toString("hex")), add("sha256", sha));
    const near = Buffer.from(pdq);
    near[0]! ^= 0b1011; // distance 3
    const response = await call(member, member.client.match, {
      queries: [{ signalType: "pdq", value: near.toString("hex") }, { signalType: "sha256", value: sha }, { signalType: "md5", value: randomBytes(16).toString("hex") }],
      includeProof: true,
    });
    const verified = verifyCosignedCheckpoint(setup.federation, response.checkpoint);
    expect(response.results.map((result) => result.matches.length)).toEqual([1, 1, 0]);
    expect(response.results[0]!.matches[0]).toMatchObject({ distance: 3, signalType: "pdq", submitter: setup.key.name, labels: ["graphic-violence"] });
    for (const match of response.results.flatMap((result) => result.matches)) {
      const { leafHash, statementId } = await leafAt(match.logIndex);
      expect(statementId.equals(match.statementId)).toBe(true);
      expect(() => verifyInclusion(match.logIndex, verified.checkpoint.size, leafHash, match.inclusionProof, verified.checkpoint.root)).not.toThrow();
    }
  });

  test("a retracted entry never matches, exactly or near; re-adding the value makes a new entry that does", async () => {
    const pdq = randomBytes(32);
    const [ack] = (await submit(add("pdq", pdq.toString("hex")))).acknowledgements;
    await submit(retract(ack!.statementId));
    const near = Buffer.from(pdq);
    near[31]! ^= 0xff; // distance 8
    const queries = [{ signalType: "pdq", value: pdq.toString("hex") }, { signalType: "pdq", value: near.toString("hex") }, { signalType: "pdq", value: pdq.toString("hex"), distanceMax: 0 }];
    const after = await call(member, member.client.match, { queries, includeProof: true });
    expect(after.results.map((result) => result.matches.length)).toEqual([0, 0, 0]);

    const readded = await submit(add("pdq", pdq.toString("hex")));
    expect(readded.acknowledgements[0]!.alreadyPresent).toBe(false);
    expect(readded.acknowledgements[0]!.statementId.equals(ack!.statementId)).toBe(false);
    const again = await call(member, member.client.match, { queries, includeProof: false });
    for (const result of again.results) expect(result.matches.map((match) => match.logIndex)).toEqual([readded.acknowledgements[0]!.logIndex]);
  });
});

describe("Match limits", () => {
  test("a call whose answer would hold more than 2,000 matches is refused with RESOURCE_EXHAUSTED and MATCH_TOO_MANY_MATCHES", async () => {
    const value = randomHex32();
    await submit(add("sha256", value));
    const queries = (count: number): MatchQuery[] => Array.from({ length: count }, () => ({ signalType: "sha256", value }));
    const atLimit = await call(member, member.client.match, { queries: queries(MATCHES_PER_CALL_MAX), includeProof: true });
    expect(atLimit.results.every((result) => result.matches.length === 1)).toBe(true);
    const refused = await rpcRejection(call(member, member.client.match, { queries: queries(MATCHES_PER_CALL_MAX + 1), includeProof: true }));
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(errorCodeOf(refused)).toBe(MATCH_TOO_MANY_MATCHES);
    expect(refused.details).toContain(`up to queries[${MATCHES_PER_CALL_MAX}] match more than ${MATCHES_PER_CALL_MAX} entries`);
  });
});

describe("GetEntry", () => {
  test("by id and by index agree, show retracted_by after a retraction, and the reveal opens the commitment", async () => {
    const value = randomBytes(32);
    const [ack] = (await submit(add("sha256", value.toString("hex"), ["attacker-manifesto"]))).acknowledgements;
    const byIndex = await call(member, member.client.getEntry, { key: { $case: "logIndex", value: ack!.logIndex } });
    const byId = await call(member, member.client.getEntry, { key: { $case: "statementId", value: ack!.statementId } });
    expect(byId).toEqual(byIndex);
    expect(byIndex.logIndex).toBe(ack!.logIndex);
    expect(byIndex.statementId.equals(ack!.statementId)).toBe(true);
    expect(byIndex.retractedBy).toHaveLength(0);
    const body = byIndex.statement!.body!;
    expect(body.$case).toBe("addSignal");
    if (body.$case !== "addSignal") return;
    expect(body.value.labels).toEqual(["attacker-manifesto"]);
    expect(byIndex.reveal!.value.equals(value)).toBe(true);
    expect(commitment("sha256", byIndex.reveal!.salt, byIndex.reveal!.value).equals(body.value.commitment)).toBe(true);
    expect(statementIdOf(byIndex.entry!.statement).equals(ack!.statementId)).toBe(true);

    const [retraction] = (await submit(retract(ack!.statementId, RetractReason.RETRACT_REASON_APPEAL_UPHELD))).acknowledgements;
    const afterById = await call(member, member.client.getEntry, { key: { $case: "statementId", value: ack!.statementId } });
    const afterByIndex = await call(member, member.client.getEntry, { key: { $case: "logIndex", value: ack!.logIndex } });
    expect(afterById).toEqual(afterByIndex);
    expect(afterById.retractedBy.toString("hex")).toBe(retraction!.statementId.toString("hex"));
    const retractionView = await call(member, member.client.getEntry, { key: { $case: "logIndex", value: retraction!.logIndex } });
    expect(retractionView.statement!.body).toEqual({ $case: "retract", value: { target: ack!.statementId, reason: RetractReason.RETRACT_REASON_APPEAL_UPHELD } });
    expect(retractionView.reveal).toBeUndefined();
  });
});

describe("Follow", () => {
  test("streams existing entries from an index, then entries committed later, in order, with reveals", async () => {
    const values = [randomBytes(32), randomBytes(32)];
    const existing = await submit(...values.map((value) => add("sha256", value.toString("hex"))));
    const from = existing.acknowledgements[0]!.logIndex;
    const size = (await currentStatus()).treeSize;
    expect(size).toBe(from + 2n);
    const stream = member.client.follow({ fromIndex: from }, member.metadata);
    try {
      const first = await take(stream, 2);
      const later = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const laterPromise = take(stream, 3);
      const committedLater = await submit(add("sha256", later[0]!.toString("hex")));
      const committedLast = await submit(add("sha256", later[1]!.toString("hex")), add("sha256", later[2]!.toString("hex")));
      const rest = await laterPromise;
      const views: EntryView[] = [...first, ...rest];
      expect(views.map((view) => view.logIndex)).toEqual([from, from + 1n, size, size + 1n, size + 2n]);
      const acks = [...existing.acknowledgements, ...committedLater.acknowledgements, ...committedLast.acknowledgements];
      expect(views.map((view) => view.statementId.toString("hex"))).toEqual(acks.map((ack) => ack.statementId.toString("hex")));
      expect(views.map((view) => view.reveal!.value.toString("hex"))).toEqual([...values, ...later].map((value) => value.toString("hex")));
      for (const view of views) {
        const body = view.statement!.body!;
        if (body.$case !== "addSignal") throw new Error("expected an AddSignal");
        expect(commitment("sha256", view.reveal!.salt, view.reveal!.value).equals(body.value.commitment)).toBe(true);
      }
    } finally {
      await cancel(stream);
    }
  });

  test("from an index the log has not reached yet (another node is ahead), the stream waits and starts there", async () => {
    const size = (await currentStatus()).treeSize;
    const stream = member.client.follow({ fromIndex: size + 1n }, member.metadata);
    try {
      const views = take(stream, 1);
      const [skipped, first] = (await submit(add("sha256", randomBytes(32).toString("hex")), add("sha256", randomBytes(32).toString("hex")))).acknowledgements;
      expect([skipped!.logIndex, first!.logIndex]).toEqual([size, size + 1n]);
      const [view] = await views;
      expect(view!.logIndex).toBe(size + 1n);
      expect(view!.statementId.toString("hex")).toBe(first!.statementId.toString("hex"));
    } finally {
      await cancel(stream);
    }
  });

  test("from index 0 streams the whole log in order", async () => {
    const size = (await currentStatus()).treeSize;
    const stream = member.client.follow({ fromIndex: 0n }, member.metadata);
    try {
      const views = await take(stream, Number(size));
      expect(views.map((view) => view.logIndex)).toEqual(Array.from({ length: Number(size) }, (_, i) => BigInt(i)));
    } finally {
      await cancel(stream);
    }
  });
});

describe("GetBatch", () => {
  test("serves a committed batch by height with its entries and the certificate that names it; OUT_OF_RANGE beyond the log", async () => {
    const response = await submit(add("sha256", randomHex32()));
    const { logIndex, statementId } = response.acknowledgements[0]!;
    const { height } = await currentStatus();
    const batch = await call(log, log.client.getBatch, { height });
    const header = BatchHeader.decode(batch.header);
    expect(header.height).toBe(height);
    expect(header.treeSize - BigInt(header.entryCount) <= logIndex && logIndex < header.treeSize).toBe(true);
    expect(batch.entries.map((entry) => statementIdOf(entry.statement))).toContainEqual(statementId);
    expect(batch.certificate!.height).toBe(height);
    expect(Buffer.from(batch.certificate!.valueId)).toEqual(createHash("sha256").update(batch.header).digest());
    for (const beyond of [0n, height + 1n]) expect((await rpcRejection(call(log, log.client.getBatch, { height: beyond }))).code).toBe(status.OUT_OF_RANGE);
  });
});

describe("GetEvidence", () => {
  test("serves the evidence held in pages of 1,000, in the order found, and OUT_OF_RANGE beyond it", async () => {
    // What a validator that equivocates at every height leaves: one piece per height, as the replica records them.
    const signer = new KeySigner(setup.key);
    const prevote = (height: bigint, value: number): SignedVote =>
      signVote(signer, { federationId: setup.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height, round: 0, valueId: Buffer.alloc(32, value), validator: setup.key.name, checkpointSignature: Buffer.alloc(0) });
    const held = node.replica.evidence;
    const before = held.length;
    for (let height = 1n; height <= 2_500n; height++) held.push({ kind: { $case: "duplicateVote", value: { first: prevote(height, 1), second: prevote(height, 2) } } });
    try {
      const heights: bigint[] = [];
      const pages: number[] = [];
      for (let start = BigInt(before), total = start + 1n; start < total; ) {
        const page = await call(log, log.client.getEvidence, { start });
        total = page.total;
        pages.push(page.evidence.length);
        for (const piece of page.evidence) heights.push(verifyEvidence(setup.federation, piece).height);
        start += BigInt(page.evidence.length);
      }
      expect(pages).toEqual([1_000, 1_000, 500]);
      expect(heights).toEqual(Array.from({ length: 2_500 }, (_, i) => BigInt(i + 1)));
      const beyond = await rpcRejection(call(log, log.client.getEvidence, { start: BigInt(held.length) + 1n }));
      expect(beyond.code).toBe(status.OUT_OF_RANGE);
      expect(beyond.details).toMatch(/holds \d+ pieces of evidence, asked from/);
    } finally {
      held.splice(before);
    }
  });
});

describe("Status", () => {
  test("counts tree size, live signals and retractions, and carries the latest checkpoint", async () => {
    const before = await currentStatus();
    const response = await submit(add("sha256", randomHex32()), add("md5", randomBytes(16).toString("hex")));
    await submit(retract(response.acknowledgements[0]!.statementId));
    const after = await currentStatus();
    expect(after).toMatchObject({
      member: setup.key.name,
      origin: setup.federation.origin,
      treeSize: before.treeSize + 3n,
      liveSignals: before.liveSignals + 1n,
      retractions: before.retractions + 1n,
      pendingStatements: 0,
    });
    expect(after.federationId.equals(setup.federation.id)).toBe(true);
    expect(after.height).toBeGreaterThan(before.height);
    expect(after.checkpoint).toBe((await call(log, log.client.getCheckpoint, {})).checkpoint);
    expect(verifyCosignedCheckpoint(setup.federation, after.checkpoint).checkpoint.size).toBe(after.treeSize);
    // A federation of one validator has no peer to connect to; it has just committed.
    expect(after.peersConnected).toEqual([]);
    expect(after.lastCommitMsAgo).toBeDefined();
    expect(after.lastCommitMsAgo!).toBeLessThan(10_000n);
  });

  test("live signals and retractions add up to what the log holds", async () => {
    const current = await currentStatus();
    const stream = member.client.follow({ fromIndex: 0n }, member.metadata);
    let views: EntryView[];
    try {
      views = await take(stream, Number(current.treeSize));
    } finally {
      await cancel(stream);
    }
    const retractions = views.filter((view) => view.statement!.body!.$case === "retract").length;
    const live = views.filter((view) => view.statement!.body!.$case === "addSignal" && view.retractedBy.length === 0).length;
    expect({ retractions: current.retractions, liveSignals: current.liveSignals }).toEqual({ retractions: BigInt(retractions), liveSignals: BigInt(live) });
  });
});

test("a data folder others could read (it holds every reveal) is closed to its owner, and the node says so", async () => {
  const dataDir = join(setup.folder, "wide-open");
  await mkdir(dataDir, { mode: 0o755 });
  await chmod(dataDir, 0o755);
  const logged: string[] = [];
  const started = await HashfedNode.start({ dataDir, federation: setup.federation, key: setup.key, memberAddress: "127.0.0.1:0", publicAddress: "127.0.0.1:0", log: (line) => logged.push(line) });
  try {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect(logged).toContainEqual(expect.stringContaining(`the data folder ${dataDir} had mode 0755; it holds every reveal, so it is now 0700`));
  } finally {
    await started.stop();
  }
  const file = join(setup.folder, "a-file");
  await writeFile(file, "not a folder");
  await expect(HashfedNode.start({ dataDir: file, federation: setup.federation, key: setup.key, memberAddress: "127.0.0.1:0", publicAddress: "127.0.0.1:0", log: () => {} })).rejects.toMatchObject({
    code: "DATA_NOT_A_FOLDER",
  });
  const fresh = join(setup.folder, "fresh", "data");
  const again = await HashfedNode.start({ dataDir: fresh, federation: setup.federation, key: setup.key, memberAddress: "127.0.0.1:0", publicAddress: "127.0.0.1:0", log: () => {} });
  await again.stop();
  expect((await stat(fresh)).mode & 0o777).toBe(0o700);
});

// It had failed to bind, blaming "another process" for the node's own Log service.
test.each([
  ["the same address", "127.0.0.1:7401", "127.0.0.1:7401"],
  ["the same port, one on every address", "0.0.0.0:7401", "127.0.0.1:7401"],
  ["the same port, one on every address of both families", "[::1]:7401", "[::]:7401"],
])("a Member service given %s as the Log and Peer services is refused before anything opens", async (_, memberAddress, publicAddress) => {
  const start = HashfedNode.start({ dataDir: join(setup.folder, "ports"), federation: setup.federation, key: setup.key, memberAddress, publicAddress, log: () => {} });
  await expect(start).rejects.toMatchObject({
    code: "PORTS_NOT_APART",
    message: `the Member service (--member-listen ${memberAddress}) and the Log and Peer services (${publicAddress}) are given one port: give them two`,
  });
});

// Two families: both bind (found by the session's review).
test("a Member service on IPv6 loopback and the Log and Peer services on every IPv4 address, one port, start", async () => {
  const port = await freeLoopbackPort();
  const started = await HashfedNode.start({ dataDir: join(setup.folder, "families"), federation: setup.federation, key: setup.key, memberAddress: `[::1]:${port}`, publicAddress: `0.0.0.0:${port}`, log: () => {} });
  await started.stop();
});

describe("the Member service's guards: tokens, and TLS off loopback", () => {
  /** A start that the Member service's options must stop before anything listens. */
  const startWith = (folder: string, options: Partial<NodeOptions>): Promise<HashfedNode> =>
    HashfedNode.start({ dataDir: join(setup.folder, folder), federation: setup.federation, key: setup.key, memberAddress: "0.0.0.0:0", publicAddress: "127.0.0.1:0", log: () => {}, ...options });

  test("refuses to start without a token (MEMBER_ADDRESS_UNGUARDED), naming TLS too when that is missing as well", async () => {
    await expect(startWith("unguarded", {})).rejects.toMatchObject({
      code: "MEMBER_ADDRESS_UNGUARDED",
      message: "the Member service on 0.0.0.0:0 is not loopback: give it a member token (--member-token-file) and TLS (--member-tls-cert, --member-tls-key), or its token and the reveals it serves cross the network in the clear",
    });
  });

  // Once a bug: any host starting with "127." counted as loopback, DNS names included, so such a Member
  // service started unguarded.
  test("treats a DNS name starting with 127. as off loopback", async () => {
    await expect(startWith("dns-name", { memberAddress: "127.0.0.1.invalid:0" })).rejects.toMatchObject({ code: "MEMBER_ADDRESS_UNGUARDED" });
  });

  test("refuses to start with a token but without TLS (MEMBER_ADDRESS_UNENCRYPTED)", async () => {
    const start = startWith("unencrypted", { memberToken: randomBytes(18).toString("base64url") });
    await expect(start).rejects.toMatchObject({ code: "MEMBER_ADDRESS_UNENCRYPTED", message: expect.stringContaining("--member-tls-cert") });
  });

  test("refuses a TLS key that is not the certificate's, or text that is no PEM (MEMBER_TLS_INVALID)", async () => {
    const ours = makeTestCertificates();
    const theirs = makeTestCertificates();
    const start = (memberTls: MemberTls): Promise<HashfedNode> => startWith("bad-tls", { memberAddress: "127.0.0.1:0", memberTls });
    await expect(start({ certificateChain: Buffer.from(ours.serverPem), privateKey: Buffer.from(theirs.serverKeyPem) })).rejects.toMatchObject({ code: "MEMBER_TLS_INVALID" });
    await expect(start({ certificateChain: Buffer.from("not a certificate"), privateKey: Buffer.from(ours.serverKeyPem) })).rejects.toMatchObject({ code: "MEMBER_TLS_INVALID" });
  });

  test("with a token and TLS: no or a wrong bearer token gets UNAUTHENTICATED before the request is read, the right one works; no plaintext", async () => {
    const token = randomBytes(18).toString("base64url");
    const certificates = makeTestCertificates();
    const caFile = join(setup.folder, "member-ca.pem");
    await writeFile(caFile, certificates.caPem);
    const guarded = await HashfedNode.start({
      dataDir: join(setup.folder, "guarded"),
      federation: setup.federation,
      key: setup.key,
      memberAddress: "0.0.0.0:0",
      publicAddress: "127.0.0.1:0",
      memberToken: token,
      memberTls: { certificateChain: Buffer.from(certificates.serverPem), privateKey: Buffer.from(certificates.serverKeyPem) },
      log: () => {},
    });
    const address = `127.0.0.1:${guarded.memberPort}`;
    const bare = connectMember(address, { tlsCa: caFile });
    const wrong = connectMember(address, { tlsCa: caFile });
    wrong.metadata.set("authorization", `Bearer ${token}x`);
    const notBearer = connectMember(address, { tlsCa: caFile });
    notBearer.metadata.set("authorization", token);
    const right = connectMember(address, { tlsCa: caFile });
    right.metadata.set("authorization", `Bearer ${token}`);
    // The right token, but in the clear: the service speaks TLS only, so the call never reaches it.
    const plain = connectMember(address);
    plain.metadata.set("authorization", `Bearer ${token}`);
    try {
      expect(status[(await rpcRejection(call(plain, plain.client.status, {}))).code]).toBe("UNAVAILABLE");
      for (const connection of [bare, wrong, notBearer]) {
        const statusError = await rpcRejection(call(connection, connection.client.status, {}));
        expect({ code: status[statusError.code], details: statusError.details }).toEqual({ code: "UNAUTHENTICATED", details: expect.stringContaining("authorization: Bearer") });
        const submitError = await rpcRejection(call(connection, connection.client.submit, { submissions: [add("sha256", randomHex32())] }));
        expect(status[submitError.code]).toBe("UNAUTHENTICATED");
        const stream = connection.client.follow({ fromIndex: 0n }, connection.metadata);
        const followError = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
        expect(status[followError.code]).toBe("UNAUTHENTICATED");
      }
      // Refused on its headers, before the request is read: one past the size limit would be RESOURCE_EXHAUSTED once read.
      const oversized = Array.from({ length: 5 * 2 ** 19 }, () => ({ signalType: "", value: "" }));
      expect(status[(await rpcRejection(call(bare, bare.client.match, { queries: oversized, includeProof: false }))).code]).toBe("UNAUTHENTICATED");
      expect(status[(await rpcRejection(call(right, right.client.match, { queries: oversized, includeProof: false }))).code]).toBe("RESOURCE_EXHAUSTED");
      // Health checking on the same port needs no token.
      expect(await check(guarded.memberPort, "hashfed.v1.Member", credentials.createSsl(Buffer.from(certificates.caPem)))).toBe("SERVING");
      const submitted = await call(right, right.client.submit, { submissions: [add("sha256", randomHex32())] });
      expect(submitted.acknowledgements[0]!.logIndex).toBe(0n);
      expect((await call(right, right.client.status, {})).treeSize).toBe(1n);
      // Nothing the refused calls sent reached the log.
      const guardedLog = connectLog(`127.0.0.1:${guarded.publicPort}`);
      const { checkpoint } = await call(guardedLog, guardedLog.client.getCheckpoint, {});
      expect(verifyCosignedCheckpoint(setup.federation, checkpoint).checkpoint.size).toBe(1n);
      guardedLog.client.close();
    } finally {
      for (const connection of [bare, wrong, notBearer, right, plain]) connection.client.close();
      await guarded.stop();
    }
  });

  test.each([
    [true, /^the Member service's TLS certificate expired on .* GMT: clients refuse it; renew it$/, /^UNAVAILABLE: the node's TLS certificate has expired; its operator must renew it/],
    ["future", /^the Member service's TLS certificate is not valid before .* GMT: clients refuse it until then$/, /^UNAVAILABLE: the node's TLS certificate is not valid yet/],
  ] as const)("a certificate out of its dates (expired: %s) is said at start, and a client is told so, not that it lacks an authority", async (expiredOption, notice, refusal) => {
    const certificates = makeTestCertificates({ expired: expiredOption });
    const caFile = join(setup.folder, "expired-ca.pem");
    await writeFile(caFile, certificates.caPem);
    const logged: string[] = [];
    const memberTls = { certificateChain: Buffer.from(certificates.serverPem), privateKey: Buffer.from(certificates.serverKeyPem) };
    const expired = await startWith(`expired-${String(expiredOption)}`, { memberAddress: "127.0.0.1:0", memberTls, log: (line) => logged.push(line) });
    const client = connectMember(`127.0.0.1:${expired.memberPort}`, { tlsCa: caFile });
    try {
      expect(logged).toContainEqual(expect.stringMatching(notice));
      expect(describeRpcError(await rpcRejection(call(client, client.client.status, {})))).toMatch(refusal);
    } finally {
      client.client.close();
      await expired.stop();
    }
  });

  test("a client connects off loopback over TLS with its token, and not in the clear with or without one", async () => {
    const tokenFile = join(setup.folder, "client.token");
    const caFile = join(setup.folder, "client-ca.pem");
    await writeFile(tokenFile, "a-member-token-of-enough-characters\n", { mode: 0o600 });
    await writeFile(caFile, makeTestCertificates().caPem);
    connectMember("192.0.2.1:7400", { tokenFile, tlsCa: caFile }).client.close();
    connectMember("[2001:db8::1]:7400", { tokenFile, tls: true }).client.close();
    expect(() => connectMember("192.0.2.1:7400", { tokenFile })).toThrow(expect.objectContaining({ code: "MEMBER_CONNECTION_IN_THE_CLEAR" }));
    expect(() => connectMember("192.0.2.1:7400")).toThrow(expect.objectContaining({ code: "MEMBER_CONNECTION_IN_THE_CLEAR" }));
    // Not an address at all: "::1:7400" had passed as loopback, and grpc-js dialled [::1:7400]:443.
    expect(() => connectMember("::1:7400", { tokenFile })).toThrow("an IPv6 address goes in brackets");
  });

  test("refuses a match-only token without a member token, or equal to it (MATCH_TOKEN_ALONE, MATCH_TOKEN_SAME)", async () => {
    const token = randomBytes(18).toString("base64url");
    await expect(startWith("match-alone", { memberAddress: "127.0.0.1:0", matchOnlyToken: token })).rejects.toMatchObject({ code: "MATCH_TOKEN_ALONE" });
    await expect(startWith("match-same", { memberAddress: "127.0.0.1:0", memberToken: token, matchOnlyToken: token })).rejects.toMatchObject({ code: "MATCH_TOKEN_SAME" });
    await expect(startWith("match-short", { memberAddress: "127.0.0.1:0", memberToken: token, matchOnlyToken: "short" })).rejects.toMatchObject({ code: "TOKEN_TOO_SHORT" });
  });

  test("a match-only token matches and reads the status; it cannot submit, retract or read entries (PERMISSION_DENIED)", async () => {
    const memberToken = randomBytes(18).toString("base64url");
    const matchOnlyToken = randomBytes(18).toString("base64url");
    const scanned = await startWith("match-only", { memberAddress: "127.0.0.1:0", memberToken, matchOnlyToken });
    const connect = (token: string): Connection<MemberClient> => {
      const connection = connectMember(`127.0.0.1:${scanned.memberPort}`);
      connection.metadata.set("authorization", `Bearer ${token}`);
      return connection;
    };
    const full = connect(memberToken);
    const scanner = connect(matchOnlyToken);
    try {
      const value = randomHex32();
      const { acknowledgements } = await call(full, full.client.submit, { submissions: [add("sha256", value)] });
      const { results } = await call(scanner, scanner.client.match, { queries: [{ signalType: "sha256", value }], includeProof: false });
      expect(results[0]!.matches.map((found) => found.logIndex)).toEqual([acknowledgements[0]!.logIndex]);
      expect((await call(scanner, scanner.client.status, {})).treeSize).toBe(1n);
      const refusals = [
        rpcRejection(call(scanner, scanner.client.submit, { submissions: [add("sha256", randomHex32())] })),
        rpcRejection(call(scanner, scanner.client.submit, { submissions: [retract(acknowledgements[0]!.statementId)] })),
        rpcRejection(call(scanner, scanner.client.getEntry, { key: { $case: "logIndex", value: 0n } })),
        new Promise<ServiceError>((resolve) => scanner.client.follow({ fromIndex: 0n }, scanner.metadata).on("error", resolve)),
      ];
      for (const refusal of await Promise.all(refusals)) {
        expect({ code: status[refusal.code], details: refusal.details }).toEqual({ code: "PERMISSION_DENIED", details: expect.stringContaining("match-only token may call Match and Status") });
      }
      expect((await call(full, full.client.status, {})).treeSize).toBe(1n);
    } finally {
      full.client.close();
      scanner.client.close();
      await scanned.stop();
    }
  });
});

describe("connection limits", () => {
  /** The SETTINGS a port's HTTP/2 server announces to a new connection. */
  function remoteSettings(port: number): Promise<http2.Settings> {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    return new Promise<http2.Settings>((resolve, reject) => {
      session.once("remoteSettings", resolve);
      session.once("error", reject);
    }).finally(() => session.close());
  }

  test("each port takes at most 100 calls at once on one connection", async () => {
    // The Log service is public: unbounded, one connection's unread replies could fill the node's memory.
    expect((await remoteSettings(node.publicPort)).maxConcurrentStreams).toBe(CALLS_PER_CONNECTION_MAX);
    expect((await remoteSettings(node.memberPort)).maxConcurrentStreams).toBe(CALLS_PER_CONNECTION_MAX);
  });
});

describe("a start that cannot bind the Log service (its port is taken)", () => {
  /**
   * Runs in a child process on the compiled build, so that a server leaked by the failed start
   * cannot keep jest alive; reports the rejection's code and whether the Member port still listens.
   */
  let outcome: Promise<{ code: string; listening: boolean }> | undefined;
  function failedStart(): Promise<{ code: string; listening: boolean }> {
    outcome ??= (async () => {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p .\` (npm test does it first)`);
      const solo = await soloFederation("videohost.example", {}, join(setup.folder, "bind-fails"));
      const blocker: NetServer = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const busy = (blocker.address() as { port: number }).port;
      const script = `
        const { HashfedNode } = require(${JSON.stringify(join(DIST, "src/node/hashfedNode.js"))});
        const { readPrivateKeyFile } = require(${JSON.stringify(join(DIST, "src/crypto/index.js"))});
        const { parseFederation } = require(${JSON.stringify(join(DIST, "src/federation/index.js"))});
        const { readFileSync } = require("node:fs");
        const { createConnection } = require("node:net");
        (async () => {
          const options = {
            dataDir: ${JSON.stringify(join(solo.folder, "data"))},
            federation: parseFederation(readFileSync(${JSON.stringify(solo.federationFile)}, "utf8")),
            key: await readPrivateKeyFile(${JSON.stringify(solo.keyFile)}),
            memberAddress: ${JSON.stringify(solo.memberAddress)},
            publicAddress: "127.0.0.1:${busy}",
            log: () => {},
          };
          let code = "started";
          try { await HashfedNode.start(options); } catch (error) { code = error.code; }
          const port = Number(options.memberAddress.split(":")[1]);
          const listening = await new Promise((resolve) => {
            const socket = createConnection(port, "127.0.0.1");
            socket.once("connect", () => { socket.destroy(); resolve(true); });
            socket.once("error", () => resolve(false));
          });
          process.stdout.write(JSON.stringify({ code, listening }));
          process.exit(0);
        })();`;
      try {
        const { stdout } = await execFileAsync(process.execPath, ["-e", script], { timeout: 15_000 });
        return JSON.parse(stdout) as { code: string; listening: boolean };
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    })();
    return outcome;
  }

  test("rejects with BIND_FAILED", async () => {
    expect((await failedStart()).code).toBe("BIND_FAILED");
  });

  // Once a bug: a failed bind left the Member server listening and the worker pool running, so the
  // process could not exit.
  test("leaves no Member service listening", async () => {
    expect((await failedStart()).listening).toBe(false);
  });
});

describe("gRPC health checking and server reflection", () => {
  test("/grpc.health.v1.Health/Check reports SERVING for the node and each service on its port", async () => {
    expect(await check(node.memberPort, "")).toBe("SERVING");
    expect(await check(node.memberPort, "hashfed.v1.Member")).toBe("SERVING");
    expect(await check(node.publicPort, "")).toBe("SERVING");
    expect(await check(node.publicPort, "hashfed.v1.Log")).toBe("SERVING");
    const unknown = await rpcRejection(check(node.memberPort, "hashfed.v1.Nope"));
    expect(unknown.code).toBe(status.NOT_FOUND);
  });

  const reflectionProto = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto/grpc/reflection/v1/reflection.proto");

  /** list_services through /grpc.reflection.v1.ServerReflection/ServerReflectionInfo. */
  function listServices(port: number): Promise<string[]> {
    const definition = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => ReflectionClient } } };
    };
    const client = new definition.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, credentials.createInsecure());
    return new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on("data", (response: { list_services_response?: { service: { name: string }[] }; error_response?: { error_message: string } }) => {
        if (response.list_services_response === undefined) reject(new Error(`no list_services_response: ${JSON.stringify(response)}`));
        else resolve(response.list_services_response.service.map((service) => service.name).sort());
        stream.end();
      });
      stream.on("error", reject);
      stream.write({ list_services: "" });
    }).finally(() => client.close());
  }
  interface ReflectionClient {
    ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(message: object): boolean; end(): void };
    close(): void;
  }

  test("reflection lists hashfed.v1.Member on the Member port and hashfed.v1.Log on the Log port", async () => {
    expect(await listServices(node.memberPort)).toContain("hashfed.v1.Member");
    expect(await listServices(node.publicPort)).toContain("hashfed.v1.Log");
  });

  // Once a bug: each port's reflection listed both services.
  test("reflection lists only the services served on each port", async () => {
    expect(await listServices(node.memberPort)).not.toContain("hashfed.v1.Log");
    expect(await listServices(node.publicPort)).not.toContain("hashfed.v1.Member");
  });
});

test("after all that, the first node still commits and every acknowledgement verifies", async () => {
  const response = await submit(add("sha256", randomHex32()));
  await expectAcknowledgementsVerify(response);
});
