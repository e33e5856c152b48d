import { createServer } from "node:net";

// Linux hands out ports for outgoing connections from 32768 up (ip_local_port_range), as do
// Windows and macOS from 49152: a port below 32768 is never taken by a client's connection.
const PORT_MIN = 20_000;
const PORT_END = 32_768;
const ATTEMPTS_MAX = 50;

// Ports handed out by this process: free when checked, but not yet listened on.
const handedOut = new Set<number>();

/**
 * A loopback port free now, for a node started a moment later (the demo's, the tests'). A port the
 * OS picks with listen(0) comes from the range it also uses for outgoing connections, and one of
 * those took such a port before its node listened on it, under the load of a benchmark. This one
 * is drawn below that range, never twice in one process, and checked by listening on it.
 */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_END - PORT_MIN));
    if (handedOut.has(port) || !(await listensOn(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port in [${PORT_MIN}, ${PORT_END}) after ${ATTEMPTS_MAX} tries`);
}

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
