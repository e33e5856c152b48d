/**
 * Goal: only the federation's members can talk to a node's Peer service. A caller whose key is not
 * in the federation file, or who gives a member's name but cannot prove that member's key, has its
 * stream refused with UNAUTHENTICATED, and nothing it sends reaches the mempool or the log; a
 * member proving its own key is accepted and what it sends is acted on (the sanity check that the
 * refusals are about the key, not about the test's hand-made stream). A member's message that is not
 * sealed under its link's key (sent in the clear, or changed on the way) ends the stream.
 * Method: a federation of four validators of which three run as real `hashfed node` processes; the
 * test plays callers of node B's hashfed.v1.Peer/Connect by hand (test/support/peerStream.ts): it
 * checks B's signed hello, proves with the key under test, and at once sends StatementGossip holding
 * a valid statement signed by member A. Then it submits at B through the Member service and, once
 * that commits (anything admitted earlier would be in the same batch or before), looks for the
 * gossiped statement at every running node. The fourth member, whose node is down, is the honest
 * caller: the test holds its real key; a second stream it opens replaces its first.
 */
import { rm } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { isRpcError } from "../../src/client/rpc";
import { generateSeed, KeySigner, privateKeyFromSeed } from "../../src/crypto";
import { memberByName } from "../../src/federation";
import { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { localFederation, type NodeProcess, SHORT_TIMEOUTS, type SoloSetup, startNodeProcess } from "../support/cluster";
import { NodeClients, unary, waitFor } from "../support/federationNet";
import { PeerStream } from "../support/peerStream";
import { type AddedEntry, StatementMaker } from "../support/statements";
import { addSubmission, randomHex32 } from "../support/submissions";

let members: SoloSetup[];
let processes: NodeProcess[] = [];
/** Clients of the three running nodes: A, B, C. */
let nodes: NodeClients[] = [];
let maker: StatementMaker;
const streams: PeerStream[] = [];

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example", "c.example", "d.example"], SHORT_TIMEOUTS);
  processes = await Promise.all(members.slice(0, 3).map((member) => startNodeProcess(member)));
  nodes = members.slice(0, 3).map((member) => new NodeClients(member));
  maker = new StatementMaker(members[0]!.federation, `peer-auth-${randomHex32()}`);
}, 30_000);

afterAll(async () => {
  for (const stream of streams) stream.close();
  for (const node of nodes) node.close();
  await Promise.all(processes.map((node) => node.kill("SIGTERM")));
  if (members !== undefined) await rm(members[0]!.folder, { recursive: true, force: true });
});

function gossip(entry: AddedEntry): PeerMessage {
  return { kind: { $case: "statements", value: { statements: [{ entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal }] } } };
}

/** A stream to node B's Peer service. */
function connectToB(): PeerStream {
  const stream = new PeerStream(members[1]!.publicAddress);
  streams.push(stream);
  return stream;
}

/** Where the statement `id` is at each running node: its log index, or undefined when it is not on that node's log. */
async function logIndexes(id: Buffer): Promise<(bigint | undefined)[]> {
  return Promise.all(
    nodes.map(async (node) => {
      try {
        return (await unary(node.member, node.member.getEntry, { key: { $case: "statementId", value: id } })).logIndex;
      } catch (error) {
        if (isRpcError(error) && error.code === status.NOT_FOUND) return undefined;
        throw error;
      }
    }),
  );
}

/** Waits until the statement `id` is committed at A, B and C; returns its log index at each. */
function committedEverywhere(id: Buffer, what: string): Promise<(bigint | undefined)[]> {
  return waitFor(
    `${what} to be committed at A, B and C`,
    async () => {
      const found = await logIndexes(id);
      return found.every((index) => index !== undefined) ? found : undefined;
    },
    15_000,
  );
}

/**
 * Submits at B through the Member service and waits until every running node has committed it:
 * anything B had admitted before is committed by then too (batches take the oldest pending first).
 */
async function commitSomethingAtB(): Promise<void> {
  const b = nodes[1]!;
  const response = await unary(b.member, b.member.submit, { submissions: [addSubmission("pdq", randomHex32())] }, 20_000);
  await committedEverywhere(response.acknowledgements[0]!.statementId, "a statement submitted at B");
}

/** Refused with `code`, and the statement sent on the stream is on no log and in no mempool. */
async function expectRefusedAndIgnored(stream: PeerStream, entry: AddedEntry, reason: RegExp, code = status.UNAUTHENTICATED): Promise<void> {
  const refusal = await stream.refusalWithin(5000);
  expect(refusal).toBeDefined();
  expect(refusal!.code).toBe(code);
  expect(refusal!.details).toMatch(reason);
  await commitSomethingAtB();
  expect(await logIndexes(entry.signed.id)).toEqual([undefined, undefined, undefined]);
  for (const node of nodes) expect((await node.status()).pendingStatements).toBe(0);
}

test("a caller whose name is not in the federation file is refused with UNAUTHENTICATED at its hello, before the node signs anything", async () => {
  const federation = members[0]!.federation;
  const stranger = privateKeyFromSeed("stranger.example", generateSeed());
  const stream = connectToB();
  // No signed hello comes back: a node is no signing oracle for strangers.
  await expect(stream.handshake(federation, memberByName(federation, "b.example")!, stranger.name, new KeySigner(stranger))).rejects.toThrow(/the callee ended the stream: 16 .*not a member/);
  const refusal = await stream.refusalWithin(5000);
  expect(refusal?.code).toBe(status.UNAUTHENTICATED);
  expect(refusal?.details).toMatch(/"stranger\.example" is not a member/);
}, 30_000);

test("a caller giving a member's name without that member's key is refused with UNAUTHENTICATED, and what it sends never reaches the log", async () => {
  const federation = members[0]!.federation;
  const impostor = privateKeyFromSeed("a.example", generateSeed());
  const statement = maker.add(members[0]!.key, { signalType: "pdq" });
  const stream = connectToB();
  await stream.handshake(federation, memberByName(federation, "b.example")!, "a.example", new KeySigner(impostor));
  stream.send(gossip(statement));
  await expectRefusedAndIgnored(stream, statement, /does not verify under a\.example's key/);
}, 30_000);

test.each([
  ["sent in the clear", (stream: PeerStream, message: PeerMessage) => stream.sendFrame(Buffer.from(PeerMessage.encode(message).finish()))],
  [
    "sealed, then changed on the way",
    (stream: PeerStream, message: PeerMessage) => {
      const sealed = stream.seal(message);
      sealed[sealed.length - 1]! ^= 0x01;
      stream.sendFrame(sealed);
    },
  ],
])("a member's message not sealed under its link's key (%s) ends the stream with INVALID_ARGUMENT, and never reaches the log", async (_, send) => {
  const federation = members[0]!.federation;
  const d = members[3]!;
  const statement = maker.add(members[0]!.key, { signalType: "pdq" });
  const stream = connectToB();
  await stream.handshake(federation, memberByName(federation, "b.example")!, d.key.name, new KeySigner(d.key));
  send(stream, gossip(statement));
  await expectRefusedAndIgnored(stream, statement, /does not open under the link's key/, status.INVALID_ARGUMENT);
}, 30_000);

test("sanity: a member proving its own key is accepted, and a statement it gossips is committed at every node", async () => {
  const federation = members[0]!.federation;
  const d = members[3]!;
  const statement = maker.add(members[0]!.key, { signalType: "pdq" });
  const stream = connectToB();
  await stream.handshake(federation, memberByName(federation, "b.example")!, d.key.name, new KeySigner(d.key));
  stream.send(gossip(statement));
  const indexes = await committedEverywhere(statement.signed.id, "the statement gossiped on d.example's authenticated stream");
  expect(new Set(indexes).size).toBe(1);
  expect(await stream.refusalWithin(200)).toBeUndefined();
  // B sends to d.example on the stream d.example opened (where d's receive window is its own to set), sealed under the link's key.
  const message = await stream.nextMessage(5000);
  expect(["status", "vote", "proposal", "statements"]).toContain(message.kind?.$case);
}, 30_000);

test("a member's newer stream replaces its older one, which the node ends: one member, one stream, one set of rate limits", async () => {
  const federation = members[0]!.federation;
  const d = members[3]!;
  const b = memberByName(federation, "b.example")!;
  const older = connectToB();
  await older.handshake(federation, b, d.key.name, new KeySigner(d.key));
  // Taken: B's messages to d.example come on it.
  expect((await older.nextMessage(5000)).kind).toBeDefined();
  const newer = connectToB();
  await newer.handshake(federation, b, d.key.name, new KeySigner(d.key));
  const refusal = await older.refusalWithin(5000);
  expect(refusal?.code).toBe(status.CANCELLED);
  expect(refusal?.details).toMatch(/replaced by a newer stream/);
  expect((await newer.nextMessage(5000)).kind).toBeDefined();
}, 30_000);

test("handshakes left short of their proof are bounded per address: beyond 16 under way, a hello is refused with UNAVAILABLE before the node signs", async () => {
  const federation = members[0]!.federation;
  const hello = (stream: PeerStream): void => {
    stream.stream.write({ kind: { $case: "hello", value: { federationId: federation.id, member: "d.example", nonce: Buffer.alloc(32, 7), signature: Buffer.alloc(0) } } });
  };
  const pending = Array.from({ length: 16 }, () => connectToB());
  for (const stream of pending) hello(stream);
  for (const stream of pending) expect((await stream.nextFrame(5000)).kind?.$case).toBe("hello");
  const late = connectToB();
  hello(late);
  const refusal = await late.refusalWithin(5000);
  expect(refusal?.code).toBe(status.UNAVAILABLE);
  expect(refusal?.details).toMatch(/16 handshakes from 127\.0\.0\.1 are under way/);
  for (const stream of pending) stream.close();
}, 30_000);
