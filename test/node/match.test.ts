/**
 * Goal: Match results are bounded and ordered, and a request asking for too much is refused up
 * front with a status that says what to do.
 * Method: an in-process node holding 120 PDQ hashes near one base hash; queries over gRPC.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { call, connectMember, type Connection } from "../../src/client/rpc";
import type { MemberClient } from "../../src/gen/hashfed/v1/member";
import type { HashfedNode } from "../../src/node/hashfedNode";
import { MATCH_QUERIES_MAX, MATCHES_PER_QUERY_MAX } from "../../src/node/matchQueries";
import { startInProcessNode, type TestFederation, testFederation } from "../support/inProcessNode";
import { addSubmission, rpcRejection } from "../support/submissions";
import { pdqDihedralVariant } from "../../src/signals";

let setup: TestFederation;
let node: HashfedNode;
let member: Connection<MemberClient>;
const base = randomBytes(32);

/** `base` with `bits` distinct bits flipped, starting at bit `first`. */
function near(first: number, bits: number): string {
  const copy = Buffer.from(base);
  for (let b = first; b < first + bits; b++) copy[b >> 3]! ^= 1 << (b & 7);
  return copy.toString("hex");
}

beforeAll(async () => {
  setup = await testFederation();
  node = await startInProcessNode(setup);
  member = connectMember(`127.0.0.1:${node.memberPort}`);
  // 120 hashes: at distance 1 (bit i) for i < 60, and at distance 2 (bits i, i+1) from 60 on.
  const submissions = Array.from({ length: 120 }, (_, i) => addSubmission("pdq", i < 60 ? near(i, 1) : near(i, 2)));
  await call(member, member.client.submit, { submissions });
});

afterAll(async () => {
  member.client.close();
  await node.stop();
  await rm(setup.folder, { recursive: true, force: true });
});

test("a query matching more than a result holds returns the closest, flagged as truncated", async () => {
  const response = await call(member, member.client.match, { queries: [{ signalType: "pdq", value: base.toString("hex") }], includeProof: false });
  const [result] = response.results;
  expect(result!.truncated).toBe(true);
  expect(result!.matches).toHaveLength(MATCHES_PER_QUERY_MAX);
  const distances = result!.matches.map((match) => match.distance);
  expect(distances.slice(0, 60)).toEqual(Array(60).fill(1));
  expect(distances.slice(60)).toEqual(Array(MATCHES_PER_QUERY_MAX - 60).fill(2));
  const narrow = await call(member, member.client.match, { queries: [{ signalType: "pdq", value: base.toString("hex"), distanceMax: 1 }], includeProof: false });
  expect(narrow.results[0]!.matches).toHaveLength(60);
  expect(narrow.results[0]!.truncated).toBe(false);
});

test("more queries than a call may hold is refused before any work", async () => {
  const queries = Array.from({ length: MATCH_QUERIES_MAX + 1 }, () => ({ signalType: "md5", value: randomBytes(16).toString("hex") }));
  const error = await rpcRejection(call(member, member.client.match, { queries, includeProof: false }));
  expect({ code: status[error.code], details: error.details }).toEqual({ code: "INVALID_ARGUMENT", details: expect.stringContaining("split it") });
});

test("with dihedral, a query for the image turned matches the entries near it and names the variant that did", async () => {
  const turned = pdqDihedralVariant(base, "rot90").toString("hex");
  const plain = await call(member, member.client.match, { queries: [{ signalType: "pdq", value: turned }], includeProof: false });
  expect(plain.results[0]!.matches).toEqual([]);
  const response = await call(member, member.client.match, { queries: [{ signalType: "pdq", value: turned, dihedral: true, distanceMax: 1 }], includeProof: false });
  const matches = response.results[0]!.matches;
  expect(matches).toHaveLength(60);
  // Turning the turned image back a quarter (rot270) gives the base hash exactly.
  expect(new Set(matches.map((match) => `${match.variant}/${match.distance}`))).toEqual(new Set(["rot270/1"]));
});

test("a PDQ query below the federation's minimum quality is answered low_quality and not matched; at or above, it is", async () => {
  const queries = [10, 90].map((quality) => ({ signalType: "pdq", value: near(0, 1), quality, distanceMax: 0 }));
  const response = await call(member, member.client.match, { queries, includeProof: false });
  expect(response.results.map((result) => [result.lowQuality, result.matches.length])).toEqual([
    [true, 0],
    [false, 1],
  ]);
});

test("dihedral or quality on an md5 or sha256 query is refused with INVALID_ARGUMENT", async () => {
  const error = await rpcRejection(call(member, member.client.match, { queries: [{ signalType: "md5", value: randomBytes(16).toString("hex"), dihedral: true }], includeProof: false }));
  expect({ code: status[error.code], details: error.details }).toEqual({ code: "INVALID_ARGUMENT", details: expect.stringMatching(/queries\[0\].*pdq queries only/) });
});
