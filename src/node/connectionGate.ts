import { CountsByKey } from "../table";

/**
 * How many TCP connections one port holds at once, from one network address and in all. Every
 * connection holds a file descriptor and an HTTP/2 session before anything on it is checked, and
 * the Log and Peer port is open to anyone: a client opening connections until the process runs out
 * of descriptors could leave LevelDB unable to open its files, which stops the node.
 */
export class ConnectionGate {
  private readonly byAddress = new CountsByKey();
  private total = 0;

  constructor(
    readonly perAddressMax: number,
    readonly totalMax: number,
  ) {}

  /** Takes a place for a connection from `address`; undefined if taken, else why there is none. */
  admit(address: string): string | undefined {
    if (this.total >= this.totalMax) return `the port holds ${this.total} connections, its most`;
    const fromAddress = this.byAddress.of(address);
    if (fromAddress >= this.perAddressMax) return `${address} has ${fromAddress} connections to this port, the most one address may`;
    this.total++;
    this.byAddress.add(address);
    return undefined;
  }

  /** Gives back the place of a connection from `address` that admit took. */
  release(address: string): void {
    this.total--;
    this.byAddress.removeOne(address);
  }
}
