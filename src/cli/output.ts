import { retractReasonName } from "./retractReasons";

/** Fields that hold identifiers: hex in JSON, the form the commands take them in (--id). */
const HEX_FIELDS = new Set(["statementId", "retractedBy", "target", "federationId"]);

/**
 * Output for people by default and JSON with --json. In JSON, 64-bit numbers are numbers while
 * they fit exactly and strings beyond; identifiers (statement and federation ids) are hex; other
 * bytes (hashes, proofs, signatures) are base64, as in C2SP and RFC 9162 tooling; a retraction's
 * reason is named as `retract --reason` takes it.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, item: unknown) {
    if (typeof item === "bigint") return item <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(item) : item.toString();
    // A retraction's reason, beside its target: a count under a label that happens to be "reason" is left alone.
    if (key === "reason" && typeof item === "number" && this.target instanceof Uint8Array) return retractReasonName(item);
    if (isBufferJson(item)) return Buffer.from(item.data).toString(HEX_FIELDS.has(key) ? "hex" : "base64");
    return item;
  }, 2);
}

function isBufferJson(item: unknown): item is { type: "Buffer"; data: number[] } {
  return typeof item === "object" && item !== null && (item as { type?: unknown }).type === "Buffer" && Array.isArray((item as { data?: unknown }).data);
}

export function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
