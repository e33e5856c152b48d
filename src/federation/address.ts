import { isIPv6 } from "node:net";
import { describe, fieldError } from "./fields";

/**
 * A member's peer address: host:port, where host is an IPv4 address, a bracketed IPv6 address or a
 * lower-case host name. Strict, so that two spellings of one address are rare and typos are caught
 * when the file is agreed rather than when a node first dials.
 */
const ADDRESS_CHARS_MAX = 300;
const HOSTNAME_CHARS_MAX = 253;
const PORT_MAX = 65_535;
const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const FORM = "host:port (an IPv4 address, a [bracketed] IPv6 address or a host name, then a port)";

export function checkAddress(address: string, path: string): void {
  if (address.length > ADDRESS_CHARS_MAX) throw fieldError(path, `must be at most ${ADDRESS_CHARS_MAX} characters, got ${address.length}`);
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(address);
  if (bracketed !== null) {
    checkIpv6(bracketed[1]!, address, path);
    checkPort(bracketed[2]!, path);
    return;
  }
  const colon = address.lastIndexOf(":");
  if (colon < 0) throw fieldError(path, `must have the form ${FORM}, got ${describe(address)}`);
  const host = address.slice(0, colon);
  if (host.includes(":")) throw fieldError(path, `an IPv6 address goes in brackets, as in [::1]:7401, got ${describe(address)}`);
  if (host.length === 0) throw fieldError(path, `must have the form ${FORM}, got ${describe(address)}`);
  if (/^[0-9.]+$/.test(host)) checkIpv4(host, path);
  else checkHostname(host, path);
  checkPort(address.slice(colon + 1), path);
}

function checkIpv6(host: string, address: string, path: string): void {
  // A zone ("%eth0") names an interface of one machine: meaningless in a file every member shares.
  if (host.includes("%")) throw fieldError(path, `an IPv6 address in a federation file has no zone (%...), got ${describe(address)}`);
  if (!isIPv6(host)) throw fieldError(path, `${describe(host)} is not an IPv6 address`);
}

function checkIpv4(host: string, path: string): void {
  const parts = host.split(".");
  // No leading zeros: some resolvers read "010" as octal.
  const valid = parts.length === 4 && parts.every((part) => /^(?:0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255);
  if (!valid) throw fieldError(path, `${describe(host)} is not an IPv4 address (four numbers 0 to 255 without leading zeros)`);
}

function checkHostname(host: string, path: string): void {
  const valid = host.length <= HOSTNAME_CHARS_MAX && host.split(".").every((label) => HOSTNAME_LABEL.test(label));
  if (!valid) {
    throw fieldError(
      path,
      `${describe(host)} is not a host name (dot-separated labels of a-z, 0-9 and '-', each 1 to 63 characters, not starting or ending with '-'; lower case)`,
    );
  }
}

function checkPort(port: string, path: string): void {
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > PORT_MAX) {
    throw fieldError(path, `the port must be a number from 1 to ${PORT_MAX}, got ${describe(port)}`);
  }
}

/**
 * The form two addresses are compared in for uniqueness: IPv6 has many spellings of one address
 * ("[0::1]" and "[::1]"), so a checked bracketed address is rewritten the WHATWG URL way.
 */
export function addressKey(address: string): string {
  if (!address.startsWith("[")) return address;
  return new URL(`hashfed://${address}`).host;
}
