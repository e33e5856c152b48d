/**
 * Goal: a peer link's frames are readable and acceptable only at the other end of that one link.
 * Both ends derive the same two keys from their ephemeral X25519 keys (the handshake's nonces) and
 * the transcript they sign; a frame changed anywhere, replayed, reordered, reflected back to its
 * sender or sealed under another link's keys does not open; a nonce that is no usable X25519 key
 * (small order: anyone knows the shared secret) is refused; a key log line gives back the keys, and
 * the key log file is owner-only or refused.
 * Method: the two ends in one process, as OutboundPeer and InboundConnection use them.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HandshakeTranscript } from "../../src/peer/handshake";
import { EphemeralKey, FrameOpener, type LinkCiphers, SEALING_BYTES } from "../../src/peer/linkCipher";
import { findLinkKeys, LinkKeyLogFile, linkKeyLogLine } from "../../src/peer/linkKeyLog";
import { hashfedError } from "../support/hashfedErrors";

/** `action` throws a HashfedError with `code`, whose message matches `message`. */
function expectHashfedError(action: () => unknown, code: string, message: RegExp = /./): void {
  const error = hashfedError(action);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

const entropy = { randomBytes };

function link(callerName = "a.example"): { caller: LinkCiphers; callee: LinkCiphers; transcript: HandshakeTranscript } {
  const [callerKey, calleeKey] = [EphemeralKey.generate(entropy), EphemeralKey.generate(entropy)];
  const transcript = { federationId: Buffer.alloc(32, 1), caller: callerName, callee: "b.example", callerNonce: callerKey.publicKey, calleeNonce: calleeKey.publicKey };
  return { caller: callerKey.linkCiphers("caller", transcript), callee: calleeKey.linkCiphers("callee", transcript), transcript };
}

test("each end opens what the other sealed, in both directions, under a key of each direction", () => {
  const { caller, callee } = link();
  const message = randomBytes(300);
  const sealed = caller.sealer.seal(message);
  expect(sealed.length).toBe(message.length + SEALING_BYTES);
  expect(sealed.includes(message.subarray(0, 16))).toBe(false);
  expect(callee.opener.open(sealed)).toEqual(message);
  expect(caller.opener.open(callee.sealer.seal(message))).toEqual(message);
  expect(caller.keys).toEqual(callee.keys);
  expect(caller.keys.callerToCallee.equals(caller.keys.calleeToCaller)).toBe(false);
});

test("a frame changed in any byte (counter, sealed bytes or tag) does not open", () => {
  const { caller } = link();
  const sealed = caller.sealer.seal(Buffer.from("a status"));
  for (let at = 0; at < sealed.length; at++) {
    // A fresh receiving end each time, as the link's callee before any frame.
    const callee = new FrameOpener(caller.keys.callerToCallee);
    const changed = Buffer.from(sealed);
    changed[at]! ^= 0x01;
    expectHashfedError(() => callee.open(changed), "PEER_FRAME_FORGED");
  }
  expect(new FrameOpener(caller.keys.callerToCallee).open(sealed)).toEqual(Buffer.from("a status"));
});

test("a frame replayed, or older than one opened, does not open; a gap (a frame the sender dropped) does", () => {
  const { caller, callee } = link();
  const frames = [0, 1, 2, 3].map((i) => caller.sealer.seal(Buffer.from([i])));
  expect(callee.opener.open(frames[0]!)).toEqual(Buffer.from([0]));
  expectHashfedError(() => callee.opener.open(frames[0]!), "PEER_FRAME_FORGED", /replayed or reordered/);
  expect(callee.opener.open(frames[2]!)).toEqual(Buffer.from([2]));
  expectHashfedError(() => callee.opener.open(frames[1]!), "PEER_FRAME_FORGED", /replayed or reordered/);
  expect(callee.opener.open(frames[3]!)).toEqual(Buffer.from([3]));
});

test("a frame reflected back to its sender, or sealed on another link, does not open", () => {
  const { caller, callee } = link();
  expectHashfedError(() => caller.opener.open(caller.sealer.seal(Buffer.from("mine"))), "PEER_FRAME_FORGED");
  const other = link();
  expectHashfedError(() => callee.opener.open(other.caller.sealer.seal(Buffer.from("theirs"))), "PEER_FRAME_FORGED");
});

test("the keys depend on the whole transcript: ends that disagree on a name cannot read each other", () => {
  const [callerKey, calleeKey] = [EphemeralKey.generate(entropy), EphemeralKey.generate(entropy)];
  const transcript = { federationId: Buffer.alloc(32, 1), caller: "a.example", callee: "b.example", callerNonce: callerKey.publicKey, calleeNonce: calleeKey.publicKey };
  const caller = callerKey.linkCiphers("caller", transcript);
  const callee = calleeKey.linkCiphers("callee", { ...transcript, caller: "c.example" });
  expectHashfedError(() => callee.opener.open(caller.sealer.seal(Buffer.from("hello"))), "PEER_FRAME_FORGED");
});

test.each([
  ["zero", Buffer.alloc(32)],
  ["one", Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])],
  ["a point of order 8", Buffer.from("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "hex")],
])("a nonce that is a small-order X25519 point (%s) is refused", (_, nonce) => {
  const own = EphemeralKey.generate(entropy);
  const transcript = { federationId: Buffer.alloc(32, 1), caller: "a.example", callee: "b.example", callerNonce: nonce, calleeNonce: own.publicKey };
  expectHashfedError(() => own.linkCiphers("callee", transcript), "PEER_HANDSHAKE_MALFORMED", /not a usable X25519 public key/);
});

test("a key log line gives back the link's keys, found by the caller's nonce", () => {
  const { caller, transcript } = link();
  const other = link();
  const log = linkKeyLogLine(other.transcript.callerNonce, other.caller.keys) + linkKeyLogLine(transcript.callerNonce, caller.keys);
  expect(findLinkKeys(log, transcript.callerNonce)).toEqual(caller.keys);
  expect(findLinkKeys(log, randomBytes(32))).toBeUndefined();
});

describe("the key log file", () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), "hashfed-keylog-"));
  });
  afterEach(() => rm(folder, { recursive: true, force: true }));

  test("is created owner-only and takes a line per link, after a warning", async () => {
    const path = join(folder, "keys.log");
    const logged: string[] = [];
    const file = LinkKeyLogFile.open(path, (line) => logged.push(line));
    const { caller, transcript } = link();
    file.append(linkKeyLogLine(transcript.callerNonce, caller.keys));
    file.close();
    // Closed twice (a node stopped twice), and written after: neither throws nor writes.
    file.close();
    file.append(linkKeyLogLine(randomBytes(32), caller.keys));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(findLinkKeys(await readFile(path, "utf8"), transcript.callerNonce)).toEqual(caller.keys);
    expect((await readFile(path, "utf8")).split("\n").filter((line) => line !== "")).toHaveLength(1);
    expect(logged.join("\n")).toMatch(/whoever reads it can read this node's peer traffic/);
  });

  test("is refused when others may read it, or when it is a symbolic link", async () => {
    const readable = join(folder, "readable.log");
    await writeFile(readable, "", { mode: 0o644 });
    await chmod(readable, 0o644);
    expectHashfedError(() => LinkKeyLogFile.open(readable, () => {}), "KEY_LOG_UNUSABLE", /only it can read/);
    const target = join(folder, "target.log");
    await writeFile(target, "", { mode: 0o600 });
    await symlink(target, join(folder, "link.log"));
    expectHashfedError(() => LinkKeyLogFile.open(join(folder, "link.log"), () => {}), "KEY_LOG_UNUSABLE", /cannot open the peer key log/);
  });
});
