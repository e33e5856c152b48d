/**
 * Goal: a sync answer that goes wrong after good batches (a malformed entry) still brings the node
 * into consensus at the height it reached: it had committed the good batches and stopped there, its
 * core left at the old height for good, so one Byzantine validator answering a lagging one and then
 * going silent stopped a federation of four.
 * Method: the whole-cluster simulator; v2 is cut off while the others commit, then hears only v3,
 * which answers its sync with the batches asked and a malformed entry after them; then v3 goes silent
 * and the three others (a quorum only with v2) must go on committing.
 */
import { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import type { SyncedBatch } from "../../src/gen/hashfed/v1/peer";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { Cluster } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";

type Lie = (genuine: readonly SyncedBatch[]) => SyncedBatch[];

const lies: [string, Lie][] = [
  ["an empty entry", (genuine) => [...genuine, { batch: undefined, certificate: undefined }]],
  ["a batch whose header does not decode", (genuine) => [...genuine, { ...genuine[0]!, batch: { ...genuine[0]!.batch!, header: Buffer.from("not a header") } }]],
];

test.each(lies)("after the batches it needs and then %s, the lagging validator joins consensus and the federation goes on without the liar", async (_, lie) => {
  const cluster = new Cluster({ seed: 11, validators: 4, faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 10, dropRate: 0, duplicateRate: 0 }, diskWriteDelayMs: 1 });
  const [v0, v1, v2, v3] = cluster.nodes.map((node) => node.name) as [string, string, string, string];
  let silent = false;
  let lied = false;
  cluster.setOutboundFilter(v3, (to, bytes, send) => {
    if (silent) return;
    const message = PeerMessage.decode(bytes);
    if (to === v2 && message.kind?.$case === "syncResponse") {
      message.kind.value.batches = lie(message.kind.value.batches);
      lied = true;
      return send(to, encodePeerMessage(message));
    }
    send(to, bytes);
  });
  for (const node of cluster.nodes) cluster.startAt(0, node);
  const submit = (atMs: number, node: number): unknown => cluster.queue.schedule(atMs, "submit", () => cluster.submitAt(cluster.nodes[node]!, 2), "workload");
  for (let i = 0; i < 5; i++) submit(100 + i * 100, i % 4);
  cluster.queue.schedule(700, "cut v2 off", () => cluster.network.blockOneWay([v0, v1, v3], [v2]), "test");
  for (let i = 0; i < 10; i++) submit(800 + i * 60, i % 2);
  cluster.queue.schedule(1_500, "only v3 reaches v2", () => {
    cluster.network.heal();
    cluster.network.blockOneWay([v0, v1], [v2]);
  }, "test");
  let atSilence = 0n;
  cluster.queue.schedule(4_000, "v3 silent", () => {
    cluster.network.heal();
    silent = true;
    atSilence = cluster.replicaOf(cluster.node(v0))!.ledger.head.height;
  }, "test");
  for (let i = 0; i < 20; i++) submit(4_200 + i * 500, i % 3);
  await runUntil(cluster.queue, () => cluster.failures.length > 0, 20_000);
  const heads = [v0, v1, v2].map((name) => cluster.replicaOf(cluster.node(name))!.ledger.head.height);
  cluster.close();
  expect(cluster.failures).toEqual([]);
  expect(lied).toBe(true);
  // Before: every head stayed where it was when v3 went silent.
  for (const head of heads) expect(head).toBeGreaterThan(atSilence);
}, 120_000);
