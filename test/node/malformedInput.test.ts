/**
 * Goal: every malformed or unauthorised request gets a precise gRPC status and a message a person
 * can act on, and the node keeps serving afterwards.
 * Method: an in-process node on loopback; each case sends one bad request through a real gRPC
 * client and checks the status code and a phrase of the message; the last test checks the node
 * still commits and serves.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { credentials, makeGenericClientConstructor, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { call, connectLog, connectMember, type Connection } from "../../src/client/rpc";
import { KeySigner, type PrivateKey } from "../../src/crypto";
import type { LogClient } from "../../src/gen/hashfed/v1/log";
import type { MemberClient, Submission } from "../../src/gen/hashfed/v1/member";
import { RetractReason, type Reveal } from "../../src/gen/hashfed/v1/statement";
import type { HashfedNode } from "../../src/node/hashfedNode";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { encodeAddSignal, encodeRetract, type SignedStatement, signStatement, type StatementId } from "../../src/statements";
import { startInProcessNode, type TestFederation, testFederation } from "../support/inProcessNode";
import { addSubmission, randomHex32, rpcRejection, signedSubmission } from "../support/submissions";

let setup: TestFederation;
let node: HashfedNode;
let member: Connection<MemberClient>;
let log: Connection<LogClient>;

function signedAdd(key: PrivateKey, options: { federationId?: Buffer } = {}): { signed: SignedStatement; reveal: Reveal } {
  const salt = randomBytes(16);
  const value = randomBytes(32);
  const bytes = encodeAddSignal(
    { federationId: options.federationId ?? setup.federation.id, submitter: key.name, createdAtMs: 1n, nonce: randomBytes(16) },
    { signalType: "sha256", value, labels: ["graphic-violence"], taxonomyVersion: setup.federation.taxonomy.version, quality: 0, salt },
  );
  return { signed: signStatement(new KeySigner(key), bytes), reveal: { salt, value } };
}

async function expectStatus(promise: Promise<unknown>, code: status, phrase: string): Promise<void> {
  const error = await rpcRejection(promise);
  expect({ code: status[error.code], details: error.details }).toEqual({ code: status[code], details: expect.stringContaining(phrase) });
}

/** Another member's statement reaches the node by gossip, as from that member's node, and commits. */
async function commitForeignEntry(): Promise<StatementId> {
  const { signed, reveal } = signedAdd(setup.otherKey);
  const gossip = encodePeerMessage({ kind: { $case: "statements", value: { statements: [{ entry: { statement: signed.bytes, signature: signed.signature }, reveal }] } } });
  node.replica.receive(setup.otherKey.name, gossip);
  while (node.ledger.indexOf(signed.id) === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  return signed.id;
}

beforeAll(async () => {
  // The smallest message limit, with batches small enough for it.
  setup = await testFederation({ messageBytesMax: 64 * 1024, batchEntriesMax: 16 });
  node = await startInProcessNode(setup);
  member = connectMember(`127.0.0.1:${node.memberPort}`);
  log = connectLog(`127.0.0.1:${node.publicPort}`);
  await call(member, member.client.submit, { submissions: [addSubmission("sha256", randomHex32())] });
});

afterAll(async () => {
  member.client.close();
  log.client.close();
  await node.stop();
  await rm(setup.folder, { recursive: true, force: true });
});

describe("Member.Submit rejects", () => {
  const submit = (...submissions: Submission[]): Promise<unknown> => call(member, member.client.submit, { submissions });

  test("bad hex", () => expectStatus(submit(addSubmission("md5", "zz".repeat(16))), status.INVALID_ARGUMENT, "submissions[0]"));
  test("a wrong length", () => expectStatus(submit(addSubmission("sha256", "ab".repeat(31))), status.INVALID_ARGUMENT, "64"));
  test("an unknown signal type", () => expectStatus(submit(addSubmission("sha1", "ab".repeat(20))), status.INVALID_ARGUMENT, "sha1"));
  test("an unknown label", () => expectStatus(submit(addSubmission("sha256", randomHex32(), ["gore"])), status.INVALID_ARGUMENT, "gore"));
  test("no label", () => expectStatus(submit(addSubmission("sha256", randomHex32(), [])), status.INVALID_ARGUMENT, "label"));
  test("a PDQ hash below the federation's minimum quality", () =>
    expectStatus(submit(addSubmission("pdq", randomHex32(), ["graphic-violence"], 10)), status.INVALID_ARGUMENT, "50"));
  test("an empty submission", () => expectStatus(submit({ kind: undefined }), status.INVALID_ARGUMENT, "one of add, retract or signed"));
  test("an empty request", () => expectStatus(submit(), status.INVALID_ARGUMENT, "at least one"));
  test("the second submission of a request, naming it, and admits none of the request", async () => {
    const good = randomHex32();
    await expectStatus(submit(addSubmission("sha256", good), addSubmission("md5", "xyz")), status.INVALID_ARGUMENT, "submissions[1]");
    const matched = await call(member, member.client.match, { queries: [{ signalType: "sha256", value: good }], includeProof: false });
    expect(matched.results[0]!.matches).toHaveLength(0);
  });
  test("a statement signed with a key that is not the submitter's (a forged signature)", () =>
    expectStatus(submit(signedSubmission(signedAdd(setup.strangerKey))), status.UNAUTHENTICATED, "does not verify"));
  test("a statement whose signature was tampered with", () => {
    const statement = signedAdd(setup.key);
    statement.signed.signature[5]! ^= 1;
    return expectStatus(submit(signedSubmission(statement)), status.UNAUTHENTICATED, "does not verify");
  });
  test("a statement by another member (foreign submitter)", () =>
    expectStatus(submit(signedSubmission(signedAdd(setup.otherKey))), status.PERMISSION_DENIED, "photoshare.example's node"));
  test("a statement for another federation", () =>
    expectStatus(submit(signedSubmission(signedAdd(setup.key, { federationId: randomBytes(32) }))), status.INVALID_ARGUMENT, "federation"));
  test("a statement whose reveal does not open its commitment", () => {
    const statement = signedAdd(setup.key);
    return expectStatus(submit(signedSubmission({ ...statement, reveal: { salt: statement.reveal.salt, value: randomBytes(32) } })), status.INVALID_ARGUMENT, "commitment");
  });
  test("statement bytes that are not a protobuf Statement", () =>
    expectStatus(submit({ kind: { $case: "signed", value: { entry: { statement: randomBytes(40), signature: randomBytes(64) }, reveal: undefined } } }), status.INVALID_ARGUMENT, "statement"));
  test("the retraction of another member's entry", async () => {
    const foreign = await commitForeignEntry();
    await expectStatus(submit({ kind: { $case: "retract", value: { target: foreign, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }), status.PERMISSION_DENIED, "only retract its own");
  });
  test("a signed retraction of another member's entry", async () => {
    const foreign = await commitForeignEntry();
    const bytes = encodeRetract(
      { federationId: setup.federation.id, submitter: setup.key.name, createdAtMs: 1n, nonce: randomBytes(16) },
      foreign,
      RetractReason.RETRACT_REASON_OTHER,
    );
    await expectStatus(submit(signedSubmission({ signed: signStatement(new KeySigner(setup.key), bytes), reveal: undefined })), status.PERMISSION_DENIED, "only retract its own");
  });
  test("the retraction of an unknown statement", () =>
    expectStatus(submit({ kind: { $case: "retract", value: { target: randomBytes(32), reason: RetractReason.RETRACT_REASON_OTHER } } }), status.NOT_FOUND, "no entry"));
  test("a retraction without a reason", async () => {
    const [ack] = (await call(member, member.client.submit, { submissions: [addSubmission("sha256", randomHex32())] })).acknowledgements;
    await expectStatus(submit({ kind: { $case: "retract", value: { target: ack!.statementId, reason: RetractReason.RETRACT_REASON_UNSPECIFIED } } }), status.INVALID_ARGUMENT, "reason");
  });
  test("a second, different retraction of the same entry", async () => {
    const [ack] = (await call(member, member.client.submit, { submissions: [addSubmission("sha256", randomHex32())] })).acknowledgements;
    const retract = (nonce: Buffer): Submission => {
      const bytes = encodeRetract(
        { federationId: setup.federation.id, submitter: setup.key.name, createdAtMs: 1n, nonce },
        ack!.statementId as StatementId,
        RetractReason.RETRACT_REASON_DUPLICATE,
      );
      return signedSubmission({ signed: signStatement(new KeySigner(setup.key), bytes), reveal: undefined });
    };
    await submit(retract(randomBytes(16)));
    await expectStatus(submit(retract(randomBytes(16))), status.FAILED_PRECONDITION, "already retracted");
  });
  test("an oversized message", () =>
    expectStatus(submit(...Array.from({ length: 900 }, () => addSubmission("sha256", randomHex32()))), status.RESOURCE_EXHAUSTED, "message larger than max"));
  test("too many submissions in one request", async () => {
    const small = await testFederation({ submissionsPerRequestMax: 2 });
    const other = await startInProcessNode(small);
    const client = connectMember(`127.0.0.1:${other.memberPort}`);
    await expectStatus(call(client, client.client.submit, { submissions: [addSubmission("sha256", randomHex32()), addSubmission("sha256", randomHex32()), addSubmission("sha256", randomHex32())] }), status.INVALID_ARGUMENT, "at most 2");
    client.client.close();
    await other.stop();
    await rm(small.folder, { recursive: true, force: true });
  });
  test("bytes that are not a SubmitRequest at all", async () => {
    const Raw = makeGenericClientConstructor({
      submit: {
        path: "/hashfed.v1.Member/Submit",
        requestStream: false,
        responseStream: false,
        requestSerialize: (bytes: Buffer) => bytes,
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (bytes: Buffer) => bytes,
        responseDeserialize: (bytes: Buffer) => bytes,
      },
    }, "Raw");
    const raw = new Raw(`127.0.0.1:${node.memberPort}`, credentials.createInsecure()) as unknown as {
      submit(request: Buffer, metadata: Metadata, callback: (error: ServiceError | null) => void): void;
      close(): void;
    };
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    await expectStatus(new Promise((resolve, reject) => raw.submit(garbage, new Metadata(), (error) => (error ? reject(error) : resolve(undefined)))), status.INVALID_ARGUMENT, "not a valid Submit");
    raw.close();
  });
});

describe("Member.Match, GetEntry and Follow reject", () => {
  test("a bad query, naming it", () =>
    expectStatus(call(member, member.client.match, { queries: [{ signalType: "pdq", value: randomHex32() }, { signalType: "pdq", value: "12" }], includeProof: false }), status.INVALID_ARGUMENT, "queries[1]"));
  test("a distance above the federation's maximum", () =>
    expectStatus(call(member, member.client.match, { queries: [{ signalType: "pdq", value: randomHex32(), distanceMax: 64 }], includeProof: false }), status.INVALID_ARGUMENT, "at most the federation's 31"));
  test("an entry index past the log", () =>
    expectStatus(call(member, member.client.getEntry, { key: { $case: "logIndex", value: 1_000_000n } }), status.OUT_OF_RANGE, "beyond"));
  test("an unknown statement id", () =>
    expectStatus(call(member, member.client.getEntry, { key: { $case: "statementId", value: randomBytes(32) } }), status.NOT_FOUND, "no committed entry"));
  test("a statement id of the wrong length", () =>
    expectStatus(call(member, member.client.getEntry, { key: { $case: "statementId", value: randomBytes(5) } }), status.INVALID_ARGUMENT, "32 bytes"));
  test("no key", () => expectStatus(call(member, member.client.getEntry, { key: undefined }), status.INVALID_ARGUMENT, "statement_id or a log_index"));
  test("following from far past the log (more than 16 batches)", async () => {
    const stream = member.client.follow({ fromIndex: 1_000_000n }, member.metadata);
    const error = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
    expect(error.code).toBe(status.OUT_OF_RANGE);
    expect(error.details).toMatch(/more than 16 batches \(\d+ entries\) beyond the log's size/);
  });
});

describe("the Log service rejects", () => {
  test("an inclusion proof for an index past the tree", () =>
    expectStatus(call(log, log.client.getInclusionProof, { index: 50n, treeSize: 0n }), status.OUT_OF_RANGE, "beyond"));
  test("an inclusion proof for a tree larger than the log", () =>
    expectStatus(call(log, log.client.getInclusionProof, { index: 0n, treeSize: 1n << 40n }), status.OUT_OF_RANGE, "beyond the log's size"));
  test("a consistency proof from size 0", () =>
    expectStatus(call(log, log.client.getConsistencyProof, { first: 0n, second: 1n }), status.INVALID_ARGUMENT, "at least 1"));
  test("a consistency proof backwards", () =>
    expectStatus(call(log, log.client.getConsistencyProof, { first: 2n, second: 1n }), status.INVALID_ARGUMENT, "must not exceed"));
  test("a consistency proof past the log", () =>
    expectStatus(call(log, log.client.getConsistencyProof, { first: 1n, second: 1n << 40n }), status.OUT_OF_RANGE, "beyond"));
  test("an empty entry range", () => expectStatus(call(log, log.client.getEntries, { start: 1n, end: 1n }), status.INVALID_ARGUMENT, "below end"));
  test("too many entries at once", () => expectStatus(call(log, log.client.getEntries, { start: 0n, end: 5000n }), status.INVALID_ARGUMENT, "at most 1000"));
  test("entries past the log", () => expectStatus(call(log, log.client.getEntries, { start: 0n, end: 999n }), status.OUT_OF_RANGE, "beyond"));
});

test("after all that, the node still commits, matches and serves", async () => {
  const value = randomHex32();
  const response = await call(member, member.client.submit, { submissions: [addSubmission("sha256", value)] });
  const matched = await call(member, member.client.match, { queries: [{ signalType: "sha256", value }], includeProof: false });
  expect(matched.results[0]!.matches[0]!.logIndex).toBe(response.acknowledgements[0]!.logIndex);
  const { checkpoint } = await call(log, log.client.getCheckpoint, {});
  expect(checkpoint).toBe(response.checkpoint);
});
