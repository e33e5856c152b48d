/**
 * Goal: whoever can reach a node's Peer port, key or not, cannot make it hold memory for good or
 * fill its log: a stream the node refused counts against its caller's address until it is over
 * (gRPC ends a stream only once what the node wrote has been read, and a caller that grants no
 * HTTP/2 window never reads the node's signed hello); a hello with a nonce of the wrong size or of
 * small order (no usable X25519 key), or a name of megabytes, is refused before the node signs anything; and refusals are logged a few at a
 * time.
 * Method: a node's PeerNetwork on a gRPC server on loopback; callers by hand: a raw HTTP/2 session
 * that grants no window (as an attacker's would), and test/support/peerStream.ts.
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { randomBytes } from "node:crypto";
import { Server, ServerCredentials, status } from "@grpc/grpc-js";
import { memberByName } from "../../src/federation";
import { PeerFrame, PeerMessage, PeerService } from "../../src/gen/hashfed/v1/peer";
import { signHandshake } from "../../src/peer/handshake";
import { SystemEntropy } from "../../src/node/environment";
import { PeerNetwork } from "../../src/peer/peerNetwork";
import { PeerStream } from "../support/peerStream";
import { waitFor } from "../support/federationNet";
import { federationFixture } from "../support/statements";

const fixture = federationFixture({ validatorCount: 2, label: "inbound-streams" });
const [node, caller] = fixture.validators;
let server: Server;
let address: string;
let network: PeerNetwork;
const logged: string[] = [];
/** The addresses the network said a member proved its key from. */
const memberAddresses: string[] = [];
const sessions: ClientHttp2Session[] = [];
const streams: PeerStream[] = [];

beforeEach(async () => {
  logged.length = 0;
  memberAddresses.length = 0;
  network = new PeerNetwork({
    federation: fixture.federation,
    signer: node!.signer,
    entropy: new SystemEntropy(),
    log: (line) => logged.push(line),
    memberProvedAt: (from) => memberAddresses.push(from),
  });
  server = new Server();
  server.addService(PeerService, network.service);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  address = `127.0.0.1:${port}`;
});

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  for (const session of sessions.splice(0)) session.destroy();
  network.close();
  server.forceShutdown();
});

/** A gRPC frame of the Peer service, as written on the wire: a flag byte, the length, the message. */
function wireFrame(frame: PeerFrame): Buffer {
  const bytes = PeerFrame.encode(frame).finish();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

function hello(member: string, nonce: Buffer): PeerFrame {
  return { kind: { $case: "hello", value: { federationId: fixture.federation.id, member, nonce, signature: Buffer.alloc(0) } } };
}

/** A session whose streams grant the node no window: nothing the node writes on them is ever read. */
function sessionThatNeverReads(): ClientHttp2Session {
  const session = connect(`http://${address}`, { settings: { initialWindowSize: 0 } });
  session.on("error", () => {});
  sessions.push(session);
  return session;
}

function openStream(session: ClientHttp2Session, frame: PeerFrame): ClientHttp2Stream {
  const stream = session.request({ ":method": "POST", ":path": "/hashfed.v1.Peer/Connect", "content-type": "application/grpc", te: "trailers" });
  stream.on("error", () => {});
  stream.write(wireFrame(frame));
  return stream;
}

function peerStream(): PeerStream {
  const stream = new PeerStream(address);
  streams.push(stream);
  return stream;
}

test("streams that never read what the node wrote count against their address until they are over, past the handshake timeout", async () => {
  const stuck = sessionThatNeverReads();
  for (let i = 0; i < 16; i++) openStream(stuck, hello(caller!.signer.name, randomBytes(32)));
  // Past the handshake timeout the node has refused them, but cannot end them: they still count.
  await new Promise((resolve) => setTimeout(resolve, 5_500));
  const refused = await peerStream().refusalWithin(2_000);
  expect(refused).toMatchObject({ code: status.UNAVAILABLE, details: expect.stringContaining("16 handshakes from 127.0.0.1 are under way") });
  // Once their caller goes away, they are over, and the address may try again.
  stuck.destroy();
  await waitFor("the address's streams over", async () => {
    const stream = peerStream();
    stream.stream.write(hello(caller!.signer.name, randomBytes(32)));
    return (await stream.nextFrame(2_000).catch(() => undefined))?.kind?.$case === "hello" ? true : undefined;
  }, 5_000);
}, 20_000);

test("a hello with a nonce of the wrong size or of small order, or a name that is no member's, is refused before the node signs anything, and quoted short", async () => {
  for (const [frame, details] of [
    [hello(caller!.signer.name, randomBytes(2 << 20)), "a handshake nonce is 32 bytes, got 2097152"],
    [hello("x".repeat(3 << 20), randomBytes(32)), '"xxxxxxxx'],
    // A small-order X25519 point: anyone knows the link keys it would give.
    [hello(caller!.signer.name, Buffer.alloc(32)), "not a usable X25519 public key"],
  ] as const) {
    const stream = peerStream();
    stream.stream.write(frame);
    const refusal = await stream.refusalWithin(5_000);
    expect(refusal?.details).toContain(details);
    expect(refusal!.details.length).toBeLessThan(200);
    await expect(stream.nextFrame(100)).rejects.toThrow("the callee ended the stream");
  }
  expect(logged.every((line) => line.length < 300)).toBe(true);
  // No member proved its key: no address was given to the connection gate to keep places for.
  expect(memberAddresses).toEqual([]);
});

test("the address a member proves its key from is given for the connection gate to keep places for; a caller short of its proof gives none", async () => {
  const unproved = peerStream();
  unproved.stream.write(hello(caller!.signer.name, randomBytes(32)));
  expect((await unproved.nextFrame(5_000)).kind?.$case).toBe("hello");
  expect(memberAddresses).toEqual([]);
  const proved = peerStream();
  await proved.handshake(fixture.federation, memberByName(fixture.federation, node!.name)!, caller!.name, caller!.signer);
  await waitFor("the member's address", async () => (memberAddresses.length > 0 ? true : undefined), 5_000);
  expect(memberAddresses).toEqual(["127.0.0.1"]);
});

test("refusals over the network are logged ten at a time (the rest counted: refusalLog.test.ts)", async () => {
  for (let i = 0; i < 25; i++) {
    const stream = peerStream();
    stream.stream.write(hello(`not-a-member-${i}.example`, randomBytes(32)));
    await stream.refusalWithin(5_000);
  }
  expect(logged).toHaveLength(10);
  expect(logged[0]).toContain('"not-a-member-0.example" is not a member of this federation');
});

/** The frames the node writes on a raw stream, parsed as they come. */
function framesOf(stream: ClientHttp2Stream): () => Promise<PeerFrame> {
  let buffered = Buffer.alloc(0);
  const frames: PeerFrame[] = [];
  let wake = () => {};
  stream.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      frames.push(PeerFrame.decode(buffered.subarray(5, 5 + buffered.readUInt32BE(1))));
      buffered = buffered.subarray(5 + buffered.readUInt32BE(1));
    }
    wake();
  });
  return async () => {
    while (frames.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return frames.shift()!;
  };
}

/** The caller member's hello on a raw stream of `session`, answered by the node: the stream and the proof to send. */
async function helloAnswered(session: ClientHttp2Session): Promise<{ stream: ClientHttp2Stream; proof: Buffer }> {
  const callerNonce = randomBytes(32);
  const stream = openStream(session, hello(caller!.signer.name, callerNonce));
  const answer = await framesOf(stream)();
  if (answer.kind?.$case !== "hello") throw new Error("the node did not answer the hello");
  const transcript = { federationId: fixture.federation.id, caller: caller!.signer.name, callee: node!.signer.name, callerNonce, calleeNonce: Buffer.from(answer.kind.value.nonce) };
  return { stream, proof: wireFrame({ kind: { $case: "proof", value: { signature: signHandshake(caller!.signer, "caller", transcript) } } }) };
}

/** Authenticates as the caller member on a raw stream of `session`; returns the stream once the proof is written. */
async function authenticated(session: ClientHttp2Session): Promise<ClientHttp2Stream> {
  const { stream, proof } = await helloAnswered(session);
  stream.write(proof);
  return stream;
}

function grpcStatusOf(stream: ClientHttp2Stream): Promise<{ code: number; message: string }> {
  return new Promise((resolve) =>
    stream.on("trailers", (trailers) => resolve({ code: Number(trailers["grpc-status"]), message: decodeURIComponent(String(trailers["grpc-message"])) })),
  );
}

test("a member that reconnects without reading what the node wrote keeps at most four streams at the node; the next is refused until they are over", async () => {
  // A window that lets the node's hello through, and little more.
  const session = connect(`http://${address}`, { settings: { initialWindowSize: 1024 } });
  session.on("error", () => {});
  sessions.push(session);
  for (let i = 0; i < 4; i++) {
    const stream = await authenticated(session);
    await waitFor("the link", async () => (network.connectedMembers().includes(caller!.signer.name) ? true : undefined), 5_000);
    // What the node sends to the member goes on its newest stream, which never takes it.
    network.send(caller!.signer.name, randomBytes(64 * 1024));
    stream.pause();
  }
  const fifth = await authenticated(session);
  expect(await grpcStatusOf(fifth)).toEqual({ code: status.UNAVAILABLE, message: expect.stringContaining("4 streams of bravo.example to this node are not over yet") });
  session.destroy();
  const again = peerStream();
  await again.handshake(fixture.federation, memberByName(fixture.federation, node!.name)!, caller!.name, caller!.signer);
  // Taken: what the node sends the member reaches this stream (sent until it does, as the node takes
  // the stream once it has read the proof; no refusal within a while had passed on a slow machine too).
  const request = PeerMessage.encode({ kind: { $case: "syncRequest", value: { fromHeight: 1n, count: 1 } } }).finish();
  const resend = setInterval(() => network.send(caller!.signer.name, request), 100);
  try {
    expect((await again.nextMessage(5_000)).kind?.$case).toBe("syncRequest");
  } finally {
    clearInterval(resend);
  }
});

test("frames after a refusal are not read: a proof sent behind a frame out of order leaves no link", async () => {
  const session = connect(`http://${address}`);
  session.on("error", () => {});
  sessions.push(session);
  const { stream, proof } = await helloAnswered(session);
  stream.write(Buffer.concat([wireFrame({ kind: { $case: "message", value: Buffer.from("too early") } }), proof]));
  expect(await grpcStatusOf(stream)).toEqual({ code: status.INVALID_ARGUMENT, message: expect.stringContaining("frames out of order") });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(network.connectedMembers()).toEqual([]);
});
