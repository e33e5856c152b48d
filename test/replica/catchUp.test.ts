/**
 * Goal: a node that is behind catches up as fast as answers come, and a Byzantine validator that
 * answers it late, one batch at a time or in full, cannot hold it back. An observer asks again right
 * after each full answer (as many heights as asked, or as many as a message holds) while a peer has
 * more, of the peers that have them the one whose last answer came quickest: it had waited for a
 * peer's next status each time, one answer of syncBatchesMax heights a status interval (400 heights
 * in 4.2 s of virtual time against 0.5 s for a validator), and had asked a Byzantine validator that
 * answered in full but late again after each answer. A peer whose answer falls short of what it
 * said it had when asked is passed over for a while, like one whose request lapsed: a Byzantine
 * validator answering one batch at a time, late, asked again at once or asked first each time, had
 * kept an observer from ever asking the others (41 of 1,993 heights) and held a restarted validator
 * back.
 * Method: the whole-cluster simulator; four validators commit a few hundred small heights, then an
 * observer starts for the first time, or a validator restarts on an empty disk, and catches up.
 */
import type { FederationParameters } from "../../src/federation";
import { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { encodePeerMessage } from "../../src/replica/peerMessages";
import { DEFAULT_TUNING } from "../../src/replica/replica";
import { Cluster } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";

/** Four validators (and `observers`) on a quick, lossless network, seed 3. */
function quickCluster(observers: number, parameters: Partial<FederationParameters> = {}): Cluster {
  return new Cluster({ seed: 3, validators: 4, observers, parameters, faults: { delayMinMs: 1, delayMeanMs: 1, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 }, diskWriteDelayMs: 1 });
}

/** `byzantine` answers `victim`'s syncs `lateMs` late, with their first batch only unless `full`. */
function answerLate(cluster: Cluster, byzantine: string, victim: string, { lateMs, full }: { lateMs: number; full: boolean }): void {
  cluster.setOutboundFilter(byzantine, (to, bytes, send) => {
    const message = PeerMessage.decode(bytes);
    if (to !== victim || message.kind?.$case !== "syncResponse") return send(to, bytes);
    if (!full) message.kind.value.batches = message.kind.value.batches.slice(0, 1);
    const answer = encodePeerMessage(message);
    cluster.queue.schedule(cluster.queue.now + lateMs, "late answer", () => send(to, answer), "test");
  });
}

test.each([
  ["small heights (answers of syncBatchesMax heights)", {}, 1],
  ["heights that fill a 64 KiB message in about ten (answers cut by messageBytesMax)", { messageBytesMax: 64 * 1024, batchEntriesMax: 20, labelsPerStatementMax: 1 }, 20],
])("a late observer catches up hundreds of heights at more than one answer per status interval: %s", async (_, parameters, perSubmit) => {
  const cluster = quickCluster(1, parameters);
  const observer = cluster.node("o0.example");
  for (const node of cluster.nodes) if (node !== observer) cluster.startAt(0, node);
  for (let i = 0; i < 400; i++) cluster.queue.schedule(100 + i * 15, "submit", () => cluster.submitAt(cluster.nodes[i % 3]!, perSubmit), "workload");
  await runUntil(cluster.queue, () => false, 7_000);
  const heights = cluster.replicaOf(cluster.node("v0.example"))!.ledger.head.height;
  const startedAt = cluster.queue.now;
  cluster.startNow(observer);
  const result = await runUntil(cluster.queue, () => cluster.replicaOf(observer)?.ledger.head.height === heights, 60_000);
  cluster.close();
  expect(result.reason).toBe("condition");
  expect(cluster.failures).toEqual([]);
  expect(heights).toBeGreaterThan(200n);
  const answersAtOnePerInterval = (Number(heights) / DEFAULT_TUNING.syncBatchesMax) * DEFAULT_TUNING.statusIntervalMs;
  expect(cluster.queue.now - startedAt).toBeLessThan(answersAtOnePerInterval / 2);
}, 120_000);

test.each([
  ["one batch at a time, 600 ms late", {}, { lateMs: 600, full: false }],
  ["one batch at a time, 600 ms late, where one batch may nearly fill a message (64 KiB, 55 entries of one label)", { messageBytesMax: 64 * 1024, batchEntriesMax: 55, labelsPerStatementMax: 1 }, { lateMs: 600, full: false }],
  ["in full, 750 ms late", {}, { lateMs: 750, full: true }],
])("a Byzantine validator answering an observer %s does not keep it from the others' answers", async (_, parameters, answer) => {
  const cluster = quickCluster(1, parameters);
  const observer = cluster.node("o0.example");
  answerLate(cluster, cluster.nodes[3]!.name, observer.name, answer);
  for (const node of cluster.nodes) if (node !== observer) cluster.startAt(0, node);
  for (let i = 0; i < 1_000; i++) cluster.queue.schedule(100 + i * 15, "submit", () => cluster.submitAt(cluster.nodes[i % 3]!, 1), "workload");
  await runUntil(cluster.queue, () => false, 5_000);
  // v3's status reaches the observer first: it is the one asked.
  const others = cluster.nodes.slice(0, 3).map((node) => node.name);
  cluster.network.blockOneWay(others, [observer.name]);
  cluster.startNow(observer);
  cluster.queue.schedule(cluster.queue.now + 300, "heal", () => cluster.network.heal(), "test");
  await runUntil(cluster.queue, () => false, cluster.queue.now + 15_000);
  const head = (name: string): bigint => cluster.replicaOf(cluster.node(name))!.ledger.head.height;
  const [validatorHead, observerHead] = [head("v0.example"), head(observer.name)];
  cluster.close();
  expect(cluster.failures).toEqual([]);
  // Asked again at once after each of v3's answers, it asked nobody else: 41 heights of 1,993 in a
  // review's run with answers of one batch, 304 of 1,326 with full ones.
  expect(observerHead).toBeGreaterThan(validatorHead - 20n);
}, 120_000);

test.each([
  ["one batch at a time, 600 ms late", { lateMs: 600, full: false }],
  ["in full, 750 ms late", { lateMs: 750, full: true }],
])("a validator restarted empty catches up although a Byzantine validator answers it %s", async (_, answer) => {
  const cluster = quickCluster(0);
  const [v0, v1, v2, v3] = cluster.nodes.map((node) => node.name) as [string, string, string, string];
  const late = cluster.node(v2);
  answerLate(cluster, v3, v2, answer);
  for (const node of cluster.nodes) cluster.startAt(0, node);
  for (let i = 0; i < 1_000; i++) cluster.queue.schedule(100 + i * 15, "submit", () => cluster.submitAt(cluster.nodes[i % 2]!, 1), "workload");
  await runUntil(cluster.queue, () => false, 5_000);
  // It restarts on an empty disk, and v3's status reaches it first.
  cluster.crash(late);
  cluster.network.blockOneWay([v0, v1], [v2]);
  cluster.startNow(late);
  cluster.queue.schedule(cluster.queue.now + 300, "heal", () => cluster.network.heal(), "test");
  const head = (name: string): bigint | undefined => cluster.replicaOf(cluster.node(name))?.ledger.head.height;
  const [restartedAt, heightAtRestart] = [cluster.queue.now, head(v0)!];
  const result = await runUntil(cluster.queue, () => (head(v2) ?? 0n) >= heightAtRestart, cluster.queue.now + 15_000);
  cluster.close();
  expect(cluster.failures).toEqual([]);
  expect(result.reason).toBe("condition");
  // It had been asking v3 first after each answer: with answers of one batch it was at 359 of 398
  // heights 15 s later in a run of this test; with full ones it took 10.2 s to reach the height its
  // peers had at its restart (1.2 s now, 1.1 s with answers of one batch).
  expect(cluster.queue.now - restartedAt).toBeLessThan(2_000);
}, 120_000);
