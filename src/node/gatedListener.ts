import { lookup } from "node:dns/promises";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import type { Server, ServerCredentials } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import type { RefusalLog } from "../peer/refusalLog";
import { type ConnectionGate, gateAddress } from "./connectionGate";
import { isLoopbackIp } from "./memberAccess";

/** A gRPC server's port, listened on by the node itself so that each connection passes a ConnectionGate first. */
export interface GatedListener {
  readonly port: number;
  /**
   * Stops taking connections, and ends those still open after `graceMs`: the gRPC server's
   * shutdown ends the calls, but a connection whose client never closes its side (or never
   * finished its TLS handshake) had kept the node's stop waiting for good.
   */
  close(graceMs: number): Promise<void>;
}

export interface GatedListenerOptions {
  readonly gate: ConnectionGate;
  readonly refusals: RefusalLog;
  readonly log: (line: string) => void;
  /**
   * Set when the port is served unguarded because its address was taken for loopback: a name
   * (localhost) that resolves elsewhere here is then refused, naming this reason.
   */
  readonly loopbackOnly?: string;
  /** The addresses a host name resolves to; DNS (getaddrinfo) by default. */
  readonly resolve?: (host: string) => Promise<string[]>;
}

const resolveByLookup = async (host: string): Promise<string[]> => (await lookup(host, { all: true })).map((found) => found.address);

/**
 * Listens on `address` (host:port) and hands each connection the gate admits to `server`; the
 * others are closed at once, and said in `refusals`. A name is bound at each address it resolves
 * to, as grpc-js binds one: the node serves if one of them binds, and says which did not.
 */
export async function listenGated(
  server: Server,
  address: string,
  credentials: ServerCredentials,
  { gate, refusals, log, loopbackOnly, resolve = resolveByLookup }: GatedListenerOptions,
): Promise<GatedListener> {
  const { host, port } = hostAndPortOf(address);
  const injector = server.createConnectionInjector(credentials);
  const open = new Set<Socket>();
  const onConnection = (socket: Socket): void => {
    const from = socket.remoteAddress ?? "unknown";
    const refusal = gate.admit(from);
    if (refusal !== undefined) {
      refusals.refused(`refused a connection to ${address} from ${gateAddress(from)}: ${refusal}`);
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once("close", () => {
      open.delete(socket);
      gate.release(from);
    });
    injector.injectConnection(socket);
  };
  const resolved = await resolve(host).catch((error: Error) => {
    throw bindFailed(address, error);
  });
  const offLoopback = loopbackOnly === undefined ? [] : resolved.filter((ip) => !isLoopbackIp(ip));
  if (offLoopback.length > 0) {
    throw new HashfedError(
      "invalid",
      "ADDRESS_NOT_LOOPBACK",
      `${host} resolves to ${offLoopback.join(", ")} on this machine, which is not loopback, and ${address} would serve ${loopbackOnly} there; listen on 127.0.0.1 or [::1] instead`,
    );
  }
  const listeners: NetServer[] = [];
  const failures: string[] = [];
  let boundPort = port;
  for (const ip of new Set(resolved)) {
    const listener = createServer(onConnection);
    try {
      boundPort = await listen(listener, ip, boundPort);
      listeners.push(listener);
      listener.on("error", (error) => log(`the listener on ${address} (${ip}): ${error.message}`));
    } catch (error) {
      failures.push(`${ip}: ${(error as Error).message}`);
    }
  }
  if (listeners.length === 0) throw bindFailed(address, new Error(failures.join("; ") || `${host} resolves to no address`));
  for (const failure of failures) log(`listening on ${address} at its other addresses, not at ${failure}`);
  return {
    port: boundPort,
    close: async (graceMs) => {
      const closed = Promise.all(listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
      const force = setTimeout(() => {
        for (const socket of open) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}

/** The host (without brackets) and port of a checked host:port address. */
export function hostAndPortOf(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  return { host: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(address.slice(colon + 1)) };
}

function listen(listener: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.once("error", reject);
    listener.listen({ host, port }, () => {
      listener.off("error", reject);
      resolve((listener.address() as { port: number }).port);
    });
  });
}

function bindFailed(address: string, error: Error): HashfedError {
  const taken = /EADDRINUSE|address already in use/i.test(error.message);
  const hint = taken ? "; another process listens there" : "; give the node an address of this machine to listen on (--listen, --member-listen), such as 0.0.0.0:7401";
  return new HashfedError("unavailable", "BIND_FAILED", `cannot listen on ${address}: ${error.message}${hint}`);
}
