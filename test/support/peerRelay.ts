import { type ClientDuplexStream, credentials, Server, ServerCredentials, type ServerDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { PeerClient, type PeerFrame, PeerMessage, PeerService } from "../../src/gen/hashfed/v1/peer";
import { FrameOpener } from "../../src/peer/linkCipher";
import { findLinkKeys } from "../../src/peer/linkKeyLog";

/**
 * A wiretap in front of one node's Peer service: it listens at the member's address in the
 * federation file (the node itself runs with `--listen` elsewhere) and passes every Connect stream
 * through unchanged, frame by frame, in both directions. The handshake is end to end (it binds
 * names and nonces, not addresses), so both ends authenticate each other as usual. Each PeerMessage
 * on the stream, either way, is opened with the link's keys from the nodes' key log (their
 * HASHFED_PEER_KEY_LOG, at `keyLog`), decoded and handed to `onMessage`: what the callers send the
 * node, and what the node sends them back (a node sends to a member on the stream that member opened).
 */
export class PeerRelay {
  private readonly upstreams = new Set<ClientDuplexStream<PeerFrame, PeerFrame>>();

  private constructor(
    private readonly server: Server,
    private readonly client: PeerClient,
  ) {}

  static async start(listen: string, target: string, keyLog: string, onMessage: (message: PeerMessage) => void): Promise<PeerRelay> {
    const client = new PeerClient(target, credentials.createInsecure(), {
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.min_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 300,
    });
    const server = new Server();
    const relay = new PeerRelay(server, client);
    server.addService(PeerService, { connect: (call: ServerDuplexStream<PeerFrame, PeerFrame>) => relay.pass(call, keyLog, onMessage) });
    await new Promise<void>((resolve, reject) => server.bindAsync(listen, ServerCredentials.createInsecure(), (error) => (error === null ? resolve() : reject(error))));
    return relay;
  }

  private pass(call: ServerDuplexStream<PeerFrame, PeerFrame>, keyLog: string, onMessage: (message: PeerMessage) => void): void {
    const upstream = this.client.connect();
    this.upstreams.add(upstream);
    let done = false;
    const finish = (error?: ServiceError): void => {
      if (done) return;
      done = true;
      this.upstreams.delete(upstream);
      upstream.cancel();
      if (error !== undefined) call.emit("error", { code: error.code, details: error.details });
      else call.end();
    };
    let callerNonce: Buffer | undefined;
    let openers: { toCallee: FrameOpener; toCaller: FrameOpener } | undefined;
    const tap = (frame: PeerFrame, direction: "toCallee" | "toCaller"): void => {
      if (frame.kind?.$case === "hello" && direction === "toCallee") callerNonce ??= frame.kind.value.nonce;
      if (frame.kind?.$case !== "message" || callerNonce === undefined) return;
      if (openers === undefined) {
        // Both ends write the line before either sends a message.
        const keys = findLinkKeys(readFileSync(keyLog, "utf8"), callerNonce);
        if (keys === undefined) throw new Error("the relay found no key log line for a link it carries");
        openers = { toCallee: new FrameOpener(keys.callerToCallee), toCaller: new FrameOpener(keys.calleeToCaller) };
      }
      let message: PeerMessage;
      try {
        message = PeerMessage.decode(openers[direction].open(frame.kind.value));
      } catch {
        // Not a sealed PeerMessage: the receiver drops it too; the relay passes it on regardless.
        return;
      }
      onMessage(message);
    };
    call.on("data", (frame: PeerFrame) => {
      tap(frame, "toCallee");
      if (!done) upstream.write(frame);
    });
    call.on("end", () => finish());
    call.on("error", () => finish());
    call.on("cancelled", () => finish());
    upstream.on("data", (frame: PeerFrame) => {
      tap(frame, "toCaller");
      if (!done) call.write(frame);
    });
    upstream.on("end", () => finish());
    upstream.on("error", (error: ServiceError) => finish(error));
  }

  close(): void {
    for (const upstream of this.upstreams) upstream.cancel();
    this.server.forceShutdown();
    this.client.close();
  }
}
