import { randomBytes } from "node:crypto";
import { type ClientDuplexStream, credentials, type ServiceError } from "@grpc/grpc-js";
import type { Signer } from "../../src/crypto";
import type { Federation, Member } from "../../src/federation";
import { PeerClient, type PeerFrame, PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { type HandshakeTranscript, signHandshake, verifyHandshake } from "../../src/peer/handshake";
import { EphemeralKey, type LinkCiphers } from "../../src/peer/linkCipher";

/**
 * A hand-driven caller of a node's Peer service (hashfed.v1.Peer/Connect), for tests that play a
 * member, or someone pretending to be one: it sends the caller's hello, checks the callee's signed
 * hello, answers with a proof signed by whatever key the test gives, and then sends PeerMessages,
 * sealed under the link's keys as a node seals them.
 */
export class PeerStream {
  private readonly client: PeerClient;
  readonly stream: ClientDuplexStream<PeerFrame, PeerFrame>;
  /** Resolves with the call's error when the node ends the stream with a status other than OK. */
  readonly refused: Promise<ServiceError>;
  private readonly frames: PeerFrame[] = [];
  private wake: () => void = () => {};
  private link: LinkCiphers | undefined;

  constructor(address: string) {
    this.client = new PeerClient(address, credentials.createInsecure());
    this.stream = this.client.connect();
    this.stream.on("data", (frame: PeerFrame) => {
      this.frames.push(frame);
      this.wake();
    });
    this.refused = new Promise((resolve) => this.stream.on("error", (error: ServiceError) => resolve(error)));
  }

  /**
   * Runs the caller's side of the handshake as `callerName` towards `callee`, proving with
   * `signer` (which need not hold callerName's key): returns the callee's member once its signed
   * hello verifies.
   */
  async handshake(federation: Federation, callee: Member, callerName: string, signer: Signer): Promise<Member> {
    const ephemeral = EphemeralKey.generate({ randomBytes });
    const transcript: HandshakeTranscript = {
      federationId: federation.id,
      caller: callerName,
      callee: callee.name,
      callerNonce: ephemeral.publicKey,
      calleeNonce: Buffer.alloc(0),
    };
    this.stream.write({ kind: { $case: "hello", value: { federationId: federation.id, member: callerName, nonce: transcript.callerNonce, signature: Buffer.alloc(0) } } });
    const frame = await this.nextFrame(5000);
    if (frame.kind?.$case !== "hello") throw new Error(`the callee answered the hello with ${frame.kind?.$case ?? "an empty frame"}`);
    const full = { ...transcript, calleeNonce: Buffer.from(frame.kind.value.nonce) };
    const member = verifyHandshake(federation, "callee", full, frame.kind.value.signature);
    this.link = ephemeral.linkCiphers("caller", full);
    this.stream.write({ kind: { $case: "proof", value: { signature: signHandshake(signer, "caller", full) } } });
    return member;
  }

  /** Sends `message` sealed under the link's key, as a member does after the handshake. */
  send(message: PeerMessage): void {
    this.sendFrame(this.seal(message));
  }

  /** `message` sealed under the link's key (the next counter). */
  seal(message: PeerMessage): Buffer {
    return this.link!.sealer.seal(PeerMessage.encode(message).finish());
  }

  /** Sends `value` as a message frame as it is. */
  sendFrame(value: Buffer): void {
    this.stream.write({ kind: { $case: "message", value } });
  }

  /** The next PeerMessage from the callee, opened with the link's key. */
  async nextMessage(timeoutMs: number): Promise<PeerMessage> {
    const frame = await this.nextFrame(timeoutMs);
    if (frame.kind?.$case !== "message") throw new Error(`the callee sent a ${frame.kind?.$case ?? "empty"} frame, not a message`);
    return PeerMessage.decode(this.link!.opener.open(frame.kind.value));
  }

  /** The next frame from the callee; fails if the stream ends or nothing comes in time. */
  async nextFrame(timeoutMs: number): Promise<PeerFrame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no frame from the callee in time");
      const ended = await Promise.race([
        new Promise<false>((resolve) => {
          this.wake = () => resolve(false);
          setTimeout(() => resolve(false), left).unref();
        }),
        this.refused.then((error) => error),
      ]);
      if (ended !== false && this.frames.length === 0) throw new Error(`the callee ended the stream: ${ended.code} ${ended.details}`);
    }
    return this.frames.shift()!;
  }

  /** The refusal if it comes within `ms`, else undefined (the stream is still open). */
  refusalWithin(ms: number): Promise<ServiceError | undefined> {
    return Promise.race([this.refused, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
