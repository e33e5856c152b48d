import { isIP, isIPv6 } from "node:net";
import { CountsByKey } from "../table";

/** Member addresses a gate remembers; beyond, the longest known goes (a member's address may change). */
const RESERVED_MAX = 256;

/**
 * How many TCP connections one port holds at once, from one client and in all. Every connection
 * holds a file descriptor and an HTTP/2 session before anything on it is checked, and the Log and
 * Peer port is open to anyone: a client opening connections until the process runs out of
 * descriptors could leave LevelDB unable to open its files, which stops the node. A client is an
 * IPv4 address or an IPv6 /64 (one host may hold a whole /64). Addresses a member's node has
 * proved its key at (`reserve`: on a link it opened, or answering this node's) are held to the
 * per-client bound only, so that strangers filling the port cannot keep a member's node from
 * reconnecting. (Learned from handshakes, not from the federation file's names: a node connects
 * from the address it has, and resolving names at start had held the start for a minute when DNS
 * did not answer.)
 */
export class ConnectionGate {
  private readonly byClient = new CountsByKey();
  private readonly reserved = new Set<string>();
  private total = 0;

  constructor(
    readonly perClientMax: number,
    readonly totalMax: number,
  ) {}

  /** Keeps places for the client at `address` when the port is full. */
  reserve(address: string): void {
    // gRPC says "unknown" where it cannot tell (a proxy between, a socket closed): no client's address.
    if (isIP(unbracketed(address).split("%")[0]!) === 0) return;
    const client = gateAddress(address);
    this.reserved.delete(client);
    this.reserved.add(client);
    if (this.reserved.size > RESERVED_MAX) this.reserved.delete(this.reserved.values().next().value!);
  }

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

/**
 * The client a remote address counts as: IPv4 as itself (also in its IPv4-mapped IPv6 form), IPv6 by
 * its /64. Brackets, as gRPC writes an IPv6 peer, and a zone are dropped.
 */
export function gateAddress(address: string): string {
  const bare = unbracketed(address);
  if (bare.startsWith("::ffff:") && bare.includes(".")) return bare.slice("::ffff:".length);
  if (!isIPv6(bare)) return bare;
  return `${expandIPv6(bare.split("%")[0]!).slice(0, 4).join(":")}::/64`;
}

/** An IPv6 address as gRPC writes a peer, "[::1]", without its brackets; anything else as is. */
function unbracketed(address: string): string {
  return address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
}

/** The eight groups of an IPv6 address, "::" filled in; a dotted IPv4 tail counts as the two groups it is. */
function expandIPv6(address: string): string[] {
  const [head, tail] = address.split("::") as [string, string | undefined];
  const groupsOf = (part: string | undefined): string[] => (part === undefined || part === "" ? [] : part.split(":").flatMap((group) => (group.includes(".") ? ["v4", "v4"] : [group])));
  const left = groupsOf(head);
  const right = groupsOf(tail);
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""));
}
