/**
 * Goal: when two members' federation files differ, both operators read why their nodes do not link,
 * naming the other member and both federations. The refused side had said nothing (it dropped
 * the refusal its peer sent), and the refusing side "the caller is in another federation", naming
 * neither (found by a review that edited one node's federation file).
 * A peer that stops is said as a link lost, not as a refusal.
 * Method: two in-process nodes whose federation files differ in one parameter, each linking to
 * the other; their logs. Then two of one federation, one stopped.
 */
import { readFile, rm } from "node:fs/promises";
import { parseFederation } from "../../src/federation";
import { HashfedNode } from "../../src/node/hashfedNode";
import { defaultDataDir, localFederation } from "../support/cluster";
import { waitFor } from "../support/federationNet";

test("each node says the other refused its link, and why: their federation files differ", async () => {
  const [a, b] = await localFederation(["a.example", "b.example"]);
  const edited = JSON.parse(await readFile(b!.federationFile, "utf8")) as { parameters?: Record<string, number> };
  edited.parameters = { ...edited.parameters, pdqDistanceMax: 20 };
  const otherFederation = parseFederation(JSON.stringify(edited));
  const logs = { a: [] as string[], b: [] as string[] };
  const nodes = await Promise.all([
    HashfedNode.start({ dataDir: defaultDataDir(a!), federation: a!.federation, key: a!.key, memberAddress: a!.memberAddress, publicAddress: a!.publicAddress, log: (line) => logs.a.push(line) }),
    HashfedNode.start({ dataDir: defaultDataDir(b!), federation: otherFederation, key: b!.key, memberAddress: b!.memberAddress, publicAddress: b!.publicAddress, log: (line) => logs.b.push(line) }),
  ]);
  const [ids, otherIds] = [a!.federation.id, otherFederation.id].map((id) => `${id.toString("hex").slice(0, 16)}…`);
  try {
    const refusedBy = (log: string[], peer: string) => log.filter((line) => line.startsWith(`peer ${peer} refused this node's link: `));
    await waitFor("both refusals said", async () => (refusedBy(logs.a, "b.example").length > 0 && refusedBy(logs.b, "a.example").length > 0 ? true : undefined), 10_000);
    expect(refusedBy(logs.a, "b.example")[0]).toBe(
      `peer b.example refused this node's link: "a.example" is in federation ${ids}, this node in ${otherIds}: their federation files differ (compare them with hashfed federation show)`,
    );
    expect(logs.b).toContainEqual(
      `refused a peer connection: "a.example" is in federation ${ids}, this node in ${otherIds}: their federation files differ (compare them with hashfed federation show)`,
    );
    // Said once, not at each retry.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(refusedBy(logs.a, "b.example")).toHaveLength(1);
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await rm(a!.folder, { recursive: true, force: true });
  }
}, 30_000);

// Once misleading (a soak run): a peer that stopped had been said to refuse this node's link ("Call
// cancelled"), as a peer that will not take the link at all is.
test("a peer that stops is a link lost, not a refusal", async () => {
  const [a, b] = await localFederation(["a.example", "b.example"]);
  const logs: string[] = [];
  const start = (member: typeof a) =>
    HashfedNode.start({ dataDir: defaultDataDir(member!), federation: member!.federation, key: member!.key, memberAddress: member!.memberAddress, publicAddress: member!.publicAddress, log: (line) => logs.push(line) });
  const nodeA = await start(a);
  const nodeB = await start(b);
  try {
    await waitFor("a's link to b", async () => (logs.includes("peer b.example: connected") ? true : undefined), 10_000);
    await nodeB.stop();
    await waitFor("a's link to b lost", async () => (logs.includes("peer b.example: link lost; reconnecting") ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(logs.filter((line) => line.includes("refused this node's link"))).toEqual([]);
  } finally {
    await nodeA.stop();
    await rm(a!.folder, { recursive: true, force: true });
  }
}, 30_000);
