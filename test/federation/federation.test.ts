import { parseVerifierKey } from "../../src/crypto/keys";
import {
  DEFAULT_PARAMETERS,
  DEFAULT_TAXONOMY,
  PARAMETER_NAMES,
  formatFederationFile,
  isValidator,
  memberByName,
  parseFederation,
} from "../../src/federation";
import { memberSpec, pilotFileValue, pilotSpec } from "./fixtures";

/**
 * Goal: a federation file written by formatFederationFile parses back to the same federation, and
 * the parsed federation answers member lookups correctly. Method: round trips of a four-member
 * pilot, then lookups of every member and of names that fall between them.
 */

describe("formatFederationFile and parseFederation", () => {
  const text = formatFederationFile(pilotSpec());
  const federation = parseFederation(text);

  test("round trip: every field of the spec comes back, members sorted by name", () => {
    expect(federation.origin).toBe("hashfed.example/pilot");
    expect(federation.members.map((member) => member.name)).toEqual(["audit.example", "chat.example", "forum.example", "videohost.example"]);
    expect(federation.validators.map((member) => member.name)).toEqual(["chat.example", "forum.example", "videohost.example"]);
    for (const spec of pilotSpec().members) {
      const member = memberByName(federation, spec.name)!;
      expect(member.key.text).toBe(spec.key);
      expect(member.key.publicKey).toEqual(parseVerifierKey(spec.key).publicKey);
      expect(member.address).toBe(spec.address);
      expect(member.role).toBe(spec.role);
    }
    expect(federation.taxonomy).toEqual(DEFAULT_TAXONOMY);
    expect(federation.parameters).toEqual(DEFAULT_PARAMETERS);
    expect(federation.text).toBe(text);
    expect(federation.id.length).toBe(32);
  });

  test("the file is 2-space JSON with a trailing newline, members in name order, every parameter written", () => {
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "origin": "hashfed.example/pilot",\n');
    const value = JSON.parse(text) as { members: Array<{ name: string }>; parameters: Record<string, number> };
    expect(value.members.map((member) => member.name)).toEqual(["audit.example", "chat.example", "forum.example", "videohost.example"]);
    expect(Object.keys(value.parameters)).toEqual([...PARAMETER_NAMES]);
  });

  test("formatting what was parsed gives the same text and id (the format is a fixed point)", () => {
    const again = formatFederationFile({
      origin: federation.origin,
      members: federation.members.map((member) => ({ name: member.name, key: member.key.text, address: member.address, role: member.role })),
      taxonomy: federation.taxonomy,
      parameters: federation.parameters,
    });
    expect(again).toBe(text);
    expect(parseFederation(again).id).toEqual(federation.id);
  });

  test("given parameters and taxonomy are written; undefined parameters take the default", () => {
    const custom = parseFederation(
      formatFederationFile({
        ...pilotSpec(),
        taxonomy: { version: 3, labels: ["recruitment", "instruction"] },
        parameters: { pdqDistanceMax: 20, batchEntriesMax: undefined },
      }),
    );
    expect(custom.parameters.pdqDistanceMax).toBe(20);
    expect(custom.parameters.batchEntriesMax).toBe(DEFAULT_PARAMETERS.batchEntriesMax);
    expect(custom.taxonomy).toEqual({ version: 3, labels: ["recruitment", "instruction"] });
  });

  test("an invalid spec throws the parser's error instead of writing a bad file", () => {
    expect(() => formatFederationFile({ ...pilotSpec(), origin: "hashfed/v1/statement" })).toThrow(/^origin: must not start with "hashfed\/"/);
    expect(() => formatFederationFile({ ...pilotSpec(), parameters: { pdqDistanceMax: 64 } })).toThrow(
      "parameters.pdqDistanceMax: must be an integer from 0 to 63, got 64",
    );
  });

  test("a file without parameters gets the defaults, and the same id as one that spells them out", () => {
    const minimal = JSON.stringify(pilotFileValue());
    const parsed = parseFederation(minimal);
    expect(parsed.parameters).toEqual(DEFAULT_PARAMETERS);
    const spelled = parseFederation(JSON.stringify({ ...pilotFileValue(), parameters: { ...DEFAULT_PARAMETERS } }));
    expect(spelled.parameters).toEqual(parsed.parameters);
    // The id covers the parameters nodes run with: two releases with different defaults give one
    // file two ids, so their nodes refuse each other's messages instead of forking.
    expect(spelled.id.equals(parsed.id)).toBe(true);
    const other = parseFederation(JSON.stringify({ ...pilotFileValue(), parameters: { pdqDistanceMax: 30 } }));
    expect(other.id.equals(parsed.id)).toBe(false);
  });

  test("a single-validator federation is valid", () => {
    const single = parseFederation(formatFederationFile({ origin: "solo.example", members: [memberSpec("solo.example", 1)] }));
    expect(single.validators.length).toBe(1);
  });

  test("the parsed federation cannot be changed by accident", () => {
    expect(Object.isFrozen(federation)).toBe(true);
    expect(Object.isFrozen(federation.members)).toBe(true);
    expect(Object.isFrozen(federation.members[0])).toBe(true);
    expect(Object.isFrozen(federation.parameters)).toBe(true);
    expect(Object.isFrozen(federation.taxonomy.labels)).toBe(true);
  });
});

describe("memberByName and isValidator", () => {
  const federation = parseFederation(formatFederationFile(pilotSpec()));

  test("find every member, and nothing for names before, between and after them", () => {
    for (const member of federation.members) expect(memberByName(federation, member.name)).toBe(member);
    for (const name of ["", "a", "audit.example.", "b.example", "d.example", "zzz", "AUDIT.EXAMPLE", "videohost.exampl"]) {
      expect(memberByName(federation, name)).toBeUndefined();
    }
  });

  test("validators are validators; observers and strangers are not", () => {
    expect(isValidator(federation, "chat.example")).toBe(true);
    expect(isValidator(federation, "videohost.example")).toBe(true);
    expect(isValidator(federation, "audit.example")).toBe(false);
    expect(isValidator(federation, "stranger.example")).toBe(false);
  });

  test("lookups work for every federation size (binary search edges)", () => {
    for (let count = 1; count <= 9; count++) {
      const names = Array.from({ length: count }, (_, index) => `m${index}.example`);
      const fed = parseFederation(formatFederationFile({ origin: "sizes.example", members: names.map((name, index) => memberSpec(name, 7000 + index)) }));
      for (const name of names) expect(memberByName(fed, name)?.name).toBe(name);
      expect(memberByName(fed, "m.example")).toBeUndefined();
      expect(memberByName(fed, "n.example")).toBeUndefined();
    }
  });
});
