import { type ClientDuplexStream, credentials, Server, ServerCredentials, type ServerDuplexStream, type ServiceError } from "@grpc/grpc-js";
import { PeerClient, type PeerFrame, PeerMessage, PeerService } from "../../src/gen/hashfed/v1/peer";

/**
 * A wiretap in front of one node's Peer service: it listens at the member's address in the
 * federation file (the node itself runs with `--listen` elsewhere) and passes every Connect stream
 * through unchanged, frame by frame, in both directions. The handshake is end to end (it binds
 * names and nonces, not addresses), so both ends authenticate each other as usual. Each PeerMessage
 * on the stream, either way, is decoded and handed to `onMessage`: what the callers send the node,
 * and what the node sends them back (a node sends to a member on the stream that member opened).
 */
export class PeerRelay {
  private readonly upstreams = new Set<ClientDuplexStream<PeerFrame, PeerFrame>>();

  private constructor(
    private readonly server: Server,
    private readonly client: PeerClient,
  ) {}

  static async start(listen: string, target: string, onMessage: (message: PeerMessage) => void): Promise<PeerRelay> {
    const client = new PeerClient(target, credentials.createInsecure(), {
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.min_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 300,
    });
    const server = new Server();
    const relay = new PeerRelay(server, client);
    server.addService(PeerService, { connect: (call: ServerDuplexStream<PeerFrame, PeerFrame>) => relay.pass(call, onMessage) });
    await new Promise<void>((resolve, reject) => server.bindAsync(listen, ServerCredentials.createInsecure(), (error) => (error === null ? resolve() : reject(error))));
    return relay;
  }

  private pass(call: ServerDuplexStream<PeerFrame, PeerFrame>, onMessage: (message: PeerMessage) => void): void {
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
    const tap = (frame: PeerFrame): void => {
      if (frame.kind?.$case !== "message") return;
      try {
        onMessage(PeerMessage.decode(frame.kind.value));
      } catch {
        // Not a PeerMessage: the receiver drops it too; the relay passes it on regardless.
      }
    };
    call.on("data", (frame: PeerFrame) => {
      tap(frame);
      if (!done) upstream.write(frame);
    });
    call.on("end", () => finish());
    call.on("error", () => finish());
    call.on("cancelled", () => finish());
    upstream.on("data", (frame: PeerFrame) => {
      tap(frame);
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
