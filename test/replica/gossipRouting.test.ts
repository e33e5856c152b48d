/**
 * Goal: a replica passes each statement it admits on to the peers that need it and to no other:
 * its own statements to every peer, in one message encoded once for all of them; a statement a peer
 * relayed to every peer but that one and the submitter's node; and none of the statements their
 * submitter's own node sent, since that node sends them to every peer itself.
 * Method: one validator of four, with a transport that records what it sends; statements arrive
 * by submit (its own) and as gossip from a peer. Its peers never answer, so nothing commits.
 */
import type { BatchEntry } from "../../src/batch";
import { systemTimers } from "../../src/node/environment";
import { decodePeerMessage, encodePeerMessage } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { statementIdKey, statementIdOf } from "../../src/statements";
import { openReplica } from "../support/replicaHarness";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 4 });
const [alpha, bravo, charlie, delta] = fixture.validators;
const maker = new StatementMaker(fixture.federation, "gossip-routing");

interface Sent {
  readonly bytes: Uint8Array;
  readonly ids: string[];
}

let replica: Replica;
let sent: Map<string, Sent[]>;

beforeEach(async () => {
  sent = new Map();
  replica = await openReplica({
    federation: fixture.federation,
    signer: alpha!.signer,
    timers: systemTimers,
    // No regossip within the test: each statement travels once, as admitted.
    tuning: { regossipIntervalMs: 600_000 },
    transport: {
      send: (to, bytes) => {
        const message = decodePeerMessage(bytes);
        if (message.kind?.$case !== "statements") return;
        const ids = message.kind.value.statements.map((gossiped) => statementIdKey(statementIdOf(gossiped.entry!.statement)));
        sent.set(to, [...(sent.get(to) ?? []), { bytes, ids }]);
      },
    },
  });
});

afterEach(async () => {
  replica.close();
  await replica.idle();
});

function submitOwn(entry: BatchEntry): void {
  // Never committed here: the acknowledgement fails when the replica closes.
  for (const acknowledged of replica.submit([entry])) acknowledged.catch(() => {});
}

function gossipFrom(peer: string, entries: readonly BatchEntry[]): void {
  const statements = entries.map((entry) => ({ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }));
  replica.receive(peer, encodePeerMessage({ kind: { $case: "statements", value: { statements } } }));
}

function idsSentTo(peer: string): string[] {
  return (sent.get(peer) ?? []).flatMap(({ ids }) => ids).sort();
}

const idOf = (entry: BatchEntry): string => statementIdKey(entry.signed.id);

/**
 * Until every listed peer got every listed statement. A flush sends to all peers at once, so a
 * message a peer should not get would have gone out with one the others were waiting for.
 */
async function settle(expected: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const deadline = Date.now() + 5_000;
  const done = (): boolean => [...expected].every(([peer, ids]) => ids.every((id) => idsSentTo(peer).includes(id)));
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

test("its own statement goes to every peer, in the same encoded message", async () => {
  const own = maker.add(alpha!.key);
  submitOwn(own);
  const peers = [bravo!.name, charlie!.name, delta!.name];
  await settle(new Map(peers.map((peer) => [peer, [idOf(own)]])));
  for (const peer of peers) expect(idsSentTo(peer)).toEqual([idOf(own)]);
  const [first, ...others] = peers.map((peer) => sent.get(peer)![0]!.bytes);
  for (const bytes of others) expect(bytes).toBe(first);
});

test("a statement relayed by a peer goes to the peers that neither sent nor signed it; one from its submitter's node goes nowhere", async () => {
  const relayed = maker.add(charlie!.key);
  const fromSubmitter = maker.add(bravo!.key);
  // One message, so that both are admitted, and flushed, together.
  gossipFrom(bravo!.name, [relayed, fromSubmitter]);
  await settle(new Map([[delta!.name, [idOf(relayed)]]]));
  expect(replica.mempool.has(fromSubmitter.signed.key)).toBe(true);
  expect(idsSentTo(bravo!.name)).toEqual([]);
  expect(idsSentTo(charlie!.name)).toEqual([]);
  expect(idsSentTo(delta!.name)).toEqual([idOf(relayed)]);
});

test("own and relayed statements: each peer gets those it neither sent nor signed", async () => {
  const own = maker.add(alpha!.key);
  const relayed = maker.add(delta!.key);
  submitOwn(own);
  gossipFrom(bravo!.name, [relayed]);
  const both = [idOf(own), idOf(relayed)].sort();
  await settle(new Map([[bravo!.name, [idOf(own)]], [charlie!.name, both], [delta!.name, [idOf(own)]]]));
  expect(idsSentTo(bravo!.name)).toEqual([idOf(own)]);
  expect(idsSentTo(charlie!.name)).toEqual(both);
  expect(idsSentTo(delta!.name)).toEqual([idOf(own)]);
});
