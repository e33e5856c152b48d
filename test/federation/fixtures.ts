import { createHash } from "node:crypto";
import { privateKeyFromSeed } from "../../src/crypto/keys";
import type { FederationSpec, MemberRole, MemberSpec } from "../../src/federation";

/** A deterministic seed per label, so fixtures are the same on every run. */
export function seedFor(label: string): Buffer {
  return createHash("sha256").update(`hashfed test seed: ${label}`).digest();
}

/** The verifier key text of a member called `name` (seeded by `seedLabel`, which defaults to the name). */
export function memberKeyText(name: string, seedLabel = name): string {
  return privateKeyFromSeed(name, seedFor(seedLabel)).verifierKey.text;
}

export function memberSpec(name: string, port: number, role: MemberRole = "validator"): MemberSpec {
  return { name, key: memberKeyText(name), address: `127.0.0.1:${port}`, role };
}

/** Four members written out of name order, one of them an observer. */
export function pilotSpec(): FederationSpec {
  return {
    origin: "hashfed.example/pilot",
    members: [
      memberSpec("videohost.example", 7401),
      memberSpec("forum.example", 7402),
      memberSpec("audit.example", 7403, "observer"),
      memberSpec("chat.example", 7404),
    ],
  };
}

/** A federation file as a mutable JSON value, for tests that break one rule at a time. */
export interface FileValue {
  origin: unknown;
  members: Array<Record<string, unknown>>;
  taxonomy: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  [field: string]: unknown;
}

export function pilotFileValue(): FileValue {
  const spec = pilotSpec();
  return {
    origin: spec.origin,
    members: spec.members.map((member) => ({ ...member })),
    taxonomy: { version: 1, labels: ["graphic-violence", "glorification", "recruitment"] },
  };
}
