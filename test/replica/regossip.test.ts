/**
 * Goal: a validator sends pending statements again only when consensus stalls. While heights commit,
 * the oldest pending statements are only queued behind others, and sending them again costs every
 * peer a decode and a hash per copy; a statement its peers never got still commits, in a proposal of
 * the validator that holds it. When a whole regossip interval passes without a commit, every peer
 * gets the oldest pending statements again.
 * Method: four simulated validators on a network without faults, in virtual time; a filter drops
 * chosen gossip messages; an observer counts, per sender and peer, how often each statement was
 * sent (before the filter). Consensus stalls when two of the four crash.
 */
import { decodePeerMessage } from "../../src/replica/peerMessages";
import { statementIdKey, statementIdOf } from "../../src/statements";
import { Cluster, type SimNode } from "../sim/cluster";
import { runUntil } from "../sim/runLoop";

const PERFECT = { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 };

/** The statement ids a message carries, if it is gossip. */
function gossipedIds(bytes: Uint8Array): string[] {
  const message = decodePeerMessage(bytes);
  if (message.kind?.$case !== "statements") return [];
  return message.kind.value.statements.map((gossiped) => statementIdKey(statementIdOf(gossiped.entry!.statement)));
}

/** Counts how often each statement went from each node to each peer. */
function countSends(cluster: Cluster): Map<string, number> {
  const sends = new Map<string, number>();
  cluster.observeSends((from, to, bytes) => {
    for (const id of gossipedIds(bytes)) sends.set(`${from}>${to}:${id}`, (sends.get(`${from}>${to}:${id}`) ?? 0) + 1);
  });
  return sends;
}

/** Drops the first gossip message `from` sends each peer once `armed`: those statements reach nobody by gossip. */
function dropFirstGossip(cluster: Cluster, from: string, armed: () => boolean = () => true): void {
  const dropped = new Set<string>();
  cluster.setOutboundFilter(from, (to, bytes, send) => {
    if (armed() && gossipedIds(bytes).length > 0 && !dropped.has(to)) {
      dropped.add(to);
      return;
    }
    send(to, bytes);
  });
}

test("while heights commit, no statement is sent twice, and one its peers never got commits", async () => {
  // Two statements a batch: the 120 submitted at once take about 60 heights, several regossip intervals.
  const cluster = new Cluster({ seed: 11, validators: 4, faults: PERFECT, diskWriteDelayMs: 5, parameters: { batchEntriesMax: 2 }, tuning: { regossipIntervalMs: 100 } });
  const sends = countSends(cluster);
  const [first] = cluster.nodes;
  dropFirstGossip(cluster, first!.name);
  for (const node of cluster.nodes) cluster.startAt(0, node);
  cluster.queue.schedule(50, "submit", () => cluster.submitAt(first!, 1), "workload");
  cluster.queue.schedule(60, "submit", () => cluster.nodes.slice(1).forEach((node) => cluster.submitAt(node, 40)), "workload");
  const committedEverywhere = (): boolean => cluster.liveReplicas().every((replica) => Number(replica.ledger.treeSize) === 121);
  const result = await runUntil(cluster.queue, () => cluster.failures.length > 0 || (cluster.liveReplicas().length === 4 && committedEverywhere()), 60_000);
  expect(cluster.failures).toEqual([]);
  expect(result.reason).toBe("condition");
  // The run spanned many regossip intervals with statements pending at every node.
  expect(cluster.queue.now).toBeGreaterThan(500);
  expect([...sends.values()].filter((count) => count > 1)).toEqual([]);
  expect(cluster.acknowledgements.length).toBe(121);
  cluster.close();
}, 60_000);

test("once consensus stalls after commits, a validator sends its oldest pending statements to every peer again", async () => {
  const cluster = new Cluster({ seed: 12, validators: 4, faults: PERFECT, diskWriteDelayMs: 5, tuning: { regossipIntervalMs: 100 } });
  const sends = countSends(cluster);
  const [first, second, third, fourth] = cluster.nodes as [SimNode, SimNode, SimNode, SimNode];
  let armed = false;
  dropFirstGossip(cluster, first.name, () => armed);
  for (const node of cluster.nodes) cluster.startAt(0, node);
  cluster.queue.schedule(50, "submit", () => cluster.submitAt(first, 4), "workload");
  const fourCommitted = (): boolean => cluster.liveReplicas().length === 4 && cluster.liveReplicas().every((replica) => Number(replica.ledger.treeSize) === 4);
  expect((await runUntil(cluster.queue, () => cluster.failures.length > 0 || fourCommitted(), 10_000)).reason).toBe("condition");
  // Two of four down: no quorum, nothing commits from here on.
  cluster.crash(third);
  cluster.crash(fourth);
  armed = true;
  const stalledAt = cluster.queue.now;
  cluster.queue.schedule(stalledAt + 1, "submit", () => cluster.submitAt(first, 1), "workload");
  const held = (): boolean => cluster.replicaOf(second)?.mempool.size === 1;
  const result = await runUntil(cluster.queue, () => cluster.failures.length > 0 || held(), stalledAt + 1_000);
  expect(cluster.failures).toEqual([]);
  expect(result.reason).toBe("condition");
  // Dropped once, sent again at a tick with no commit since the one before: within two intervals.
  expect(cluster.queue.now - stalledAt).toBeLessThan(250);
  for (const peer of [second, third, fourth]) {
    expect([...sends].filter(([key]) => key.startsWith(`${first.name}>${peer.name}:`)).map(([, count]) => count)).toEqual([1, 1, 1, 1, 2]);
  }
  cluster.close();
}, 60_000);
