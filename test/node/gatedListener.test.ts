/**
 * Goal: a node serves its Member service without a token or TLS only on loopback, and it takes the
 * name localhost for loopback; where localhost resolves elsewhere (a hosts file or DNS answer that
 * says so), the node must refuse to listen rather than serve that port to the network.
 * Method: listenGated with an injected resolver, a real gRPC server and real sockets.
 */
import { connect } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HashfedError } from "../../src/errors";
import { ConnectionGate } from "../../src/node/connectionGate";
import { type GatedListenerOptions, listenGated } from "../../src/node/gatedListener";
import { RefusalLog } from "../../src/peer/refusalLog";

const options = (resolved: string[], loopbackOnly?: string): GatedListenerOptions => ({
  gate: new ConnectionGate(4, 8),
  refusals: new RefusalLog(() => undefined, () => performance.now(), "connections"),
  log: () => undefined,
  loopbackOnly,
  resolve: async () => resolved,
});

test("a port that must stay on loopback is not listened on where its name resolves off loopback", async () => {
  const server = new Server();
  const refused = listenGated(server, "localhost:0", ServerCredentials.createInsecure(), options(["127.0.0.1", "192.0.2.10"], "the Member service without a token or TLS"));
  await expect(refused).rejects.toThrow(HashfedError);
  await expect(refused).rejects.toMatchObject({
    code: "ADDRESS_NOT_LOOPBACK",
    message: "localhost resolves to 192.0.2.10 on this machine, which is not loopback, and localhost:0 would serve the Member service without a token or TLS there; listen on 127.0.0.1 or [::1] instead",
  });
  server.forceShutdown();
});

test("loopback addresses, IPv4-mapped ones included, are listened on; without the restriction any address is", async () => {
  const server = new Server();
  const listener = await listenGated(server, "localhost:0", ServerCredentials.createInsecure(), options(["127.0.0.1", "::ffff:127.0.0.1"], "an unguarded port"));
  const connected = await new Promise<boolean>((resolve) => {
    const socket = connect(listener.port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
  expect(connected).toBe(true);
  await listener.close(0);
  // Unrestricted, a name is bound wherever it resolves (here the wildcard address).
  const open = await listenGated(server, "anywhere.example:0", ServerCredentials.createInsecure(), options(["0.0.0.0"]));
  expect(open.port).toBeGreaterThan(0);
  await open.close(0);
  server.forceShutdown();
});
