import { timingSafeEqual } from "node:crypto";
import { isIPv4 } from "node:net";
import { ServerInterceptingCall, type ServerInterceptor, status } from "@grpc/grpc-js";

/**
 * Only IP literals in 127.0.0.0/8, ::1 and localhost: a DNS name like "127.example" may resolve
 * anywhere. (localhost is taken at its word, as RFC 6761 asks resolvers to keep it on loopback; a
 * node serving unguarded there checks what it resolves to before it listens: listenGated.)
 */
export function isLoopbackAddress(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(":"));
  return host === "localhost" || isLoopbackIp(host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);
}

/** An IP address in 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6. */
export function isLoopbackIp(ip: string): boolean {
  const v4 = ip.toLowerCase().startsWith("::ffff:") ? ip.slice("::ffff:".length) : ip;
  return (isIPv4(v4) && v4.startsWith("127.")) || ip === "::1";
}

/**
 * The Member service's bearer tokens: `member` may call every method; `matchOnly`, if set, only the
 * methods that sign nothing and return no reveal (Match, Status), for systems such as an upload
 * scanner that need no more, so that a token taken from one of them cannot add, retract or read
 * the list. (Match answers distances to the hashes it finds, as matching must: a caller with many
 * queries near a PDQ hash could narrow it down.)
 */
export interface MemberTokens {
  readonly member: string;
  readonly matchOnly?: string;
}

/** What a match-only token may call. */
export const MATCH_ONLY_METHODS: readonly string[] = ["Match", "Status"];

/**
 * Guards every method of a service with its bearer tokens (`authorization: Bearer <token>`): the
 * Member service signs with the member's key, so off loopback it must know who is calling. The
 * token is checked on the call's headers, before the request is read: decoding a 4 MiB request of
 * empty match queries took the node's event loop a second and 158 MB of heap, which a caller
 * without the token could otherwise ask for as often as it liked. The port's other services
 * (health checking, reflection) stay open.
 */
export function bearerTokenInterceptor(serviceName: string, tokens: MemberTokens): ServerInterceptor {
  const member = Buffer.from(`Bearer ${tokens.member}`);
  const matchOnly = tokens.matchOnly === undefined ? undefined : Buffer.from(`Bearer ${tokens.matchOnly}`);
  const prefix = `/${serviceName}/`;
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            if (!method.path.startsWith(prefix)) return pass(metadata);
            const given = Buffer.from(String(metadata.get("authorization")[0] ?? ""));
            if (sameBytes(given, member)) return pass(metadata);
            if (matchOnly !== undefined && sameBytes(given, matchOnly)) {
              const name = method.path.slice(prefix.length);
              if (MATCH_ONLY_METHODS.includes(name)) return pass(metadata);
              return call.sendStatus({ code: status.PERMISSION_DENIED, details: `this node's match-only token may call ${MATCH_ONLY_METHODS.join(" and ")}, not ${name}: that needs the member token` });
            }
            call.sendStatus({ code: status.UNAUTHENTICATED, details: `the ${serviceName} service needs the header \`authorization: Bearer <token>\` with this node's member token` });
          },
        }),
    });
}

function sameBytes(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
