import { lookup } from "node:dns/promises";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { Server, ServerCredentials } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import type { RefusalLog } from "../peer/refusalLog";
import type { ConnectionGate } from "./connectionGate";

/** A gRPC server's port, listened on by the node itself so that each connection passes a ConnectionGate first. */
export interface GatedListener {
  readonly port: number;
  /**
   * Stops taking connections; resolves once those open have ended. They stay with the gRPC
   * server, which ends them at its shutdown.
   */
  close(): Promise<void>;
}

/**
 * Listens on `address` (host:port; a name is bound at each address it resolves to, as grpc-js binds
 * one) and hands each connection the gate admits to `server`; the others are closed at once, and
 * said in `refusals`.
 */
export async function listenGated(server: Server, address: string, credentials: ServerCredentials, gate: ConnectionGate, refusals: RefusalLog): Promise<GatedListener> {
  const { host, port } = hostAndPortOf(address);
  const injector = server.createConnectionInjector(credentials);
  const onConnection = (socket: Socket): void => {
    const from = clientAddress(socket);
    const refusal = gate.admit(from);
    if (refusal !== undefined) {
      refusals.refused(`refused a connection from ${from}: ${refusal}`);
      socket.destroy();
      return;
    }
    socket.once("close", () => gate.release(from));
    injector.injectConnection(socket);
  };
  const listeners: NetServer[] = [];
  try {
    const resolved = await lookup(host, { all: true }).catch((error: Error) => {
      throw bindFailed(address, error);
    });
    let boundPort = port;
    for (const { address: ip } of resolved) {
      const listener = createServer(onConnection);
      listeners.push(listener);
      boundPort = await listen(listener, ip, boundPort, address);
    }
    return { port: boundPort, close: () => closeAll(listeners) };
  } catch (error) {
    await closeAll(listeners);
    throw error;
  }
}

function hostAndPortOf(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  return { host: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(address.slice(colon + 1)) };
}

/** The client's address, one for both forms an IPv4 client has on a dual-stack socket. */
function clientAddress(socket: Socket): string {
  const remote = socket.remoteAddress ?? "unknown";
  return remote.startsWith("::ffff:") && remote.includes(".") ? remote.slice("::ffff:".length) : remote;
}

function listen(listener: NetServer, host: string, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.once("error", (error) => reject(bindFailed(address, error)));
    listener.listen({ host, port }, () => resolve((listener.address() as { port: number }).port));
  });
}

function closeAll(listeners: readonly NetServer[]): Promise<void> {
  return Promise.all(listeners.filter((listener) => listener.listening).map((listener) => new Promise<void>((resolve) => listener.close(() => resolve())))).then(() => undefined);
}

function bindFailed(address: string, error: Error): HashfedError {
  const taken = /EADDRINUSE|address already in use/i.test(error.message);
  const hint = taken ? "; another process listens there" : "; give the node an address of this machine to listen on (--listen, --member-listen), such as 0.0.0.0:7401";
  return new HashfedError("unavailable", "BIND_FAILED", `cannot listen on ${address}: ${error.message}${hint}`);
}
