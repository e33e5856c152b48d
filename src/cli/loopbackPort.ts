import { readFileSync } from "node:fs";
import { createServer } from "node:net";

// How many ports below the outgoing range to draw from, and how many draws before giving up.
const WINDOW_PORTS = 12_768;
const ATTEMPTS_MAX = 50;
// Below this, ports need privileges or are commonly taken by services.
const UNPRIVILEGED_MIN = 1024;

// Ports handed out by this process: free when checked, but not yet listened on.
const handedOut = new Set<number>();

/**
 * A loopback port free now, for a node started a moment later (the demo's, the tests'). A port the
 * OS picks with listen(0) comes from the range it also uses for outgoing connections, and one of
 * those took such a port before its node listened on it, under the load of a benchmark. This one
 * is drawn below that range, never twice in one process, and checked by listening on it; where
 * there is no room below the range, the OS picks.
 */
export async function freeLoopbackPort(): Promise<number> {
  const end = outgoingPortsStart();
  const start = Math.max(UNPRIVILEGED_MIN, end - WINDOW_PORTS);
  if (end - start < WINDOW_PORTS / 10) return listenOn(0);
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    const port = start + Math.floor(Math.random() * (end - start));
    if (handedOut.has(port) || (await listenOn(port).catch(() => undefined)) === undefined) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port in [${start}, ${end}) after ${ATTEMPTS_MAX} tries`);
}

/** The first port the OS gives outgoing connections: Linux's ip_local_port_range, else 32768 (macOS and Windows start at 49152). */
export function outgoingPortsStart(): number {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 0) return first;
  } catch {
    // Not Linux: the default below holds.
  }
  return 32_768;
}

/** Listens on `port` (0: any) on loopback and closes again; resolves with the port listened on. */
function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : port));
    });
  });
}
