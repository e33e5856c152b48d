import { timingSafeEqual } from "node:crypto";
import { isIPv4 } from "node:net";
import { ServerInterceptingCall, type ServerInterceptor, status } from "@grpc/grpc-js";

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]"]);

/** Only IP literals in 127.0.0.0/8, ::1 and localhost: a DNS name like "127.example" may resolve anywhere. */
export function isLoopbackAddress(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(":"));
  return LOOPBACK_HOSTS.has(host) || (isIPv4(host) && host.startsWith("127."));
}

/**
 * Guards every method of a service with a bearer token (`authorization: Bearer <token>`): the
 * Member service signs with the member's key, so off loopback it must know who is calling. The
 * token is checked on the call's headers, before the request is read: decoding a 4 MiB request of
 * empty match queries took the node's event loop a second and 158 MB of heap, which a caller
 * without the token could otherwise ask for as often as it liked. The port's other services
 * (health checking, reflection) stay open.
 */
export function bearerTokenInterceptor(serviceName: string, token: string): ServerInterceptor {
  const expected = Buffer.from(`Bearer ${token}`);
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const given = Buffer.from(String(metadata.get("authorization")[0] ?? ""));
            if (!method.path.startsWith(`/${serviceName}/`) || (given.length === expected.length && timingSafeEqual(given, expected))) return pass(metadata);
            call.sendStatus({ code: status.UNAUTHENTICATED, details: `the ${serviceName} service needs the header \`authorization: Bearer <token>\` with this node's member token` });
          },
        }),
    });
}
