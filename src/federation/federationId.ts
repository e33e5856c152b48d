import { createHash } from "node:crypto";
import { assert } from "../assert";

/**
 * The federation id: SHA-256 of the canonical encoding of the federation file's JSON value. Every
 * signed message binds it, so a statement or vote made for one federation is worthless in another.
 *
 * The canonical encoding is JSON without whitespace, object keys sorted by UTF-16 code units at
 * every level, arrays in order, and strings and numbers as ECMAScript's JSON.stringify writes them
 * (the same rules as RFC 8785, JCS). So reformatting the file or reordering an object's keys keeps
 * the id, while any change of value, or of the order of a list, changes it.
 *
 * The id is of the file with its parameters resolved: a parameter left out counts with its
 * default. Validity rules depend on the parameters, so two releases of hashfed with different
 * defaults must see different ids (and refuse each other's messages) rather than one id with two
 * meanings, which would fork the log.
 */
export const FEDERATION_ID_BYTES = 32;

export function federationId(value: unknown): Buffer {
  return createHash("sha256").update(canonicalJson(value), "utf8").digest();
}

/** Requires a JSON value (what JSON.parse returns): anything else is a programmer error. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    assert(Number.isFinite(value), `a JSON number is finite, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  assert(typeof value === "object", `not a JSON value: ${typeof value}`);
  const prototype = Object.getPrototypeOf(value) as unknown;
  assert(prototype === Object.prototype || prototype === null, "a JSON object is a plain object");
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, which is the order the encoding specifies.
  const members = Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(",")}}`;
}
