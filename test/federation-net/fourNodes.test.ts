/**
 * Goal: four real node processes on loopback form a federation: a statement submitted at one
 * member is committed by consensus and matchable at every other member, with checkpoints cosigned
 * by a quorum.
 * Method: four `hashfed node` processes; Submit at A over gRPC, then Match at B, C and D.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { verifyCosignedCheckpoint } from "../../src/audit";
import { call, connectMember } from "../../src/client/rpc";
import { localFederation, type NodeProcess, type SoloSetup, startNodeProcess } from "../support/cluster";
import { addSubmission } from "../support/submissions";

let members: SoloSetup[];
let nodes: NodeProcess[];

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example", "c.example", "d.example"]);
  nodes = await Promise.all(members.map((member) => startNodeProcess(member)));
}, 30_000);

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.kill("SIGTERM")));
  await rm(members[0]!.folder, { recursive: true, force: true });
});

test("a statement submitted at A is matchable at B, C and D, under a quorum-cosigned checkpoint", async () => {
  const value = randomBytes(32).toString("hex");
  const a = connectMember(members[0]!.memberAddress);
  const response = await call(a, a.client.submit, { submissions: [addSubmission("pdq", value)] });
  const checkpoint = verifyCosignedCheckpoint(members[0]!.federation, response.checkpoint);
  expect(checkpoint.signers.length).toBeGreaterThanOrEqual(3);
  a.client.close();
  for (const member of members.slice(1)) {
    const client = connectMember(member.memberAddress);
    let matches = 0;
    for (let attempt = 0; attempt < 100 && matches === 0; attempt++) {
      const result = await call(client, client.client.match, { queries: [{ signalType: "pdq", value }], includeProof: false });
      matches = result.results[0]!.matches.length;
      if (matches === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(matches).toBe(1);
    client.client.close();
  }
}, 30_000);
