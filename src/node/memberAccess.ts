import { timingSafeEqual } from "node:crypto";
import { isIPv4 } from "node:net";
import { status, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]"]);

/** Only IP literals in 127.0.0.0/8, ::1 and localhost: a DNS name like "127.example" may resolve anywhere. */
export function isLoopbackAddress(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(":"));
  return LOOPBACK_HOSTS.has(host) || (isIPv4(host) && host.startsWith("127."));
}

/**
 * Guards every method of a service with a bearer token (`authorization: Bearer <token>`): the
 * Member service signs with the member's key, so off loopback it must know who is calling.
 */
export function withBearerToken<S extends UntypedServiceImplementation>(definition: ServiceDefinition, implementation: S, token: string): S {
  const expected = Buffer.from(`Bearer ${token}`);
  const guarded: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name] as (...args: unknown[]) => void;
    guarded[name] = (call: { metadata: { get(key: string): unknown[] }; emit(event: string, value: unknown): void }, callback?: (error: unknown) => void) => {
      const given = Buffer.from(String(call.metadata.get("authorization")[0] ?? ""));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return handler(call, callback);
      const error = { code: status.UNAUTHENTICATED, details: "the Member service needs the header `authorization: Bearer <token>` with this node's member token" };
      if (method.responseStream) call.emit("error", error);
      else callback!(error);
    };
  }
  return guarded as S;
}
