import { isIPv6 } from "node:net";
import { CountsByKey } from "../table";

/**
 * How many TCP connections one port holds at once, from one client and in all. Every connection
 * holds a file descriptor and an HTTP/2 session before anything on it is checked, and the Log and
 * Peer port is open to anyone: a client opening connections until the process runs out of
 * descriptors could leave LevelDB unable to open its files, which stops the node. A client is an
 * IPv4 address or an IPv6 /64 (one host may hold a whole /64). Addresses the federation's members
 * connect from (`reserved`) are held to the per-client bound only, so that strangers filling the
 * port cannot keep a member's node from reconnecting.
 */
export class ConnectionGate {
  private readonly byClient = new CountsByKey();
  private total = 0;

  constructor(
    readonly perClientMax: number,
    readonly totalMax: number,
    private readonly reserved: ReadonlySet<string> = new Set(),
  ) {}

  /** Takes a place for a connection from `address`; undefined if taken, else why there is none. */
  admit(address: string): string | undefined {
    const client = gateAddress(address);
    const fromClient = this.byClient.of(client);
    if (fromClient >= this.perClientMax) return `${client} has ${fromClient} connections to this port, the most one client may`;
    if (this.total >= this.totalMax && !this.reserved.has(client)) return `the port holds ${this.total} connections, its most`;
    this.total++;
    this.byClient.add(client);
    return undefined;
  }

  /** Gives back the place of a connection from `address` that admit took. */
  release(address: string): void {
    this.total--;
    this.byClient.removeOne(gateAddress(address));
  }
}

/** The client a remote address counts as: IPv4 as itself (also in its IPv4-mapped IPv6 form), IPv6 by its /64. */
export function gateAddress(address: string): string {
  if (address.startsWith("::ffff:") && address.includes(".")) return address.slice("::ffff:".length);
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, "::" filled in. */
function expandIPv6(address: string): string[] {
  const [head, tail] = address.split("::") as [string, string | undefined];
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""));
}
