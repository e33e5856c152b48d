import { HashfedError } from "../../src/errors";
import { DEFAULT_PARAMETERS, PARAMETER_NAMES, PARAMETER_RULES, parseFederation, type ParameterName } from "../../src/federation";
import { keyId } from "../../src/crypto/keys";
import { memberKeyText, pilotFileValue, type FileValue } from "./fixtures";

/** A verifier key text for `publicKey`, whatever it is (keys made from seeds are never weak). */
function verifierKeyText(name: string, publicKey: Buffer): string {
  return `${name}+${keyId(name, publicKey).toString("hex")}+${Buffer.concat([Buffer.from([1]), publicKey]).toString("base64")}`;
}

/**
 * Goal: every rule of the federation file rejects what it should, with a FEDERATION_INVALID error
 * whose message starts with the field path, and accepts the values at its boundaries. Method: one
 * table row per rule; each row breaks the pilot file in one place.
 */

function rejection(text: string): HashfedError {
  try {
    parseFederation(text);
  } catch (error) {
    if (error instanceof HashfedError) return error;
    throw error;
  }
  throw new Error("expected the file to be rejected, but it parsed");
}

function edited(edit: (file: FileValue) => void): string {
  const file = pilotFileValue();
  edit(file);
  return JSON.stringify(file, null, 2);
}

// The pilot's members in file order: [0] videohost, [1] forum, [2] audit (observer), [3] chat.
type Row = [description: string, text: string, message: string];

const syntaxRows: Row[] = [
  ["JSON syntax error", '{"origin": "a",\n  }', "the federation file: is not valid JSON: "],
  ["an array, not an object", "[]", "the federation file: must be a JSON object, got an array"],
  ["an empty file", "", "the federation file: is not valid JSON"],
  ["a duplicate top-level key", '{"origin": "a.example", "origin": "b.example"}', "origin: appears twice in the same object"],
  ["a duplicate parameter", edited((file) => (file.parameters = {})).replace('"parameters": {}', '"parameters": {"pdqDistanceMax": 31, "pdqDistanceMax": 63}'), "parameters.pdqDistanceMax: appears twice in the same object"],
  ["a duplicate member field, spelt with an escape", edited(() => {}).replace('"role": "observer"', '"role": "observer", "r\\u006fle": "validator"'), "members[2].role: appears twice in the same object"],
  ["a misspelt top-level field", edited((file) => (file.paramaters = {})), 'paramaters: unknown field (did you mean "parameters"?); the fields are origin, members, taxonomy, parameters'],
  ["a missing origin", edited((file) => delete file.origin), "origin: is required"],
  ["a missing taxonomy", edited((file) => delete (file as Partial<FileValue>).taxonomy), "taxonomy: is required"],
  ["a file over 1 MiB", `${" ".repeat(1024 * 1024)}{}`, "the federation file: must be at most 1048576 characters, got 1048578"],
];

const originRows: Row[] = [
  ["an empty origin", edited((file) => (file.origin = "")), "origin: must not be empty"],
  ["an origin that is not a string", edited((file) => (file.origin = 7)), "origin: must be a string, got 7"],
  ["an origin of 256 characters", edited((file) => (file.origin = "o".repeat(256))), "origin: must be at most 255 characters, got 256"],
  ["an origin with a newline", edited((file) => (file.origin = "a.example\n5")), 'origin: must be printable ASCII on one line: the character "\\n" at offset 9 is not'],
  ["an origin with non-ASCII", edited((file) => (file.origin = "café.example")), 'origin: must be printable ASCII on one line: the character "é" at offset 3 is not'],
  ["an origin in the signing domains", edited((file) => (file.origin = "hashfed/v1/statement")), 'origin: must not start with "hashfed/", which is reserved'],
];

const memberRows: Row[] = [
  ["members not a list", edited((file) => ((file as Record<string, unknown>).members = {})), "members: must be an array, got an object"],
  ["no members", edited((file) => (file.members = [])), "members: must list at least one member"],
  ["257 members", edited((file) => (file.members = Array(257).fill(file.members[0]))), "members: must list at most 256 members, got 257"],
  ["a member that is not an object", edited((file) => ((file.members as unknown[])[1] = "forum.example")), 'members[1]: must be a JSON object, got "forum.example"'],
  ["a misspelt member field", edited((file) => (file.members[1]!.adress = "x")), 'members[1].adress: unknown field (did you mean "address"?)'],
  ["a missing role", edited((file) => delete file.members[3]!.role), "members[3].role: is required"],
  ["an unknown role", edited((file) => (file.members[3]!.role = "leader")), 'members[3].role: must be "validator" or "observer", got "leader"'],
  ["an upper-case name", edited((file) => (file.members[0]!.name = "VideoHost.example")), 'members[0].name: a member name is 1 to 253 characters of a-z, 0-9, \'.\' and \'-\', starting and ending with a letter or digit, got "VideoHost.example"'],
  ["a name starting with '-'", edited((file) => (file.members[0]!.name = "-videohost.example")), "members[0].name: a member name is"],
  ["a name ending with '.'", edited((file) => (file.members[0]!.name = "videohost.example.")), "members[0].name: a member name is"],
  ["a name with a space", edited((file) => (file.members[0]!.name = "video host")), "members[0].name: a member name is"],
  ["an empty name", edited((file) => (file.members[0]!.name = "")), "members[0].name: a member name is"],
  ["a name of 254 characters", edited((file) => (file.members[0]!.name = "a".repeat(254))), "members[0].name: a member name is"],
  ["a key that is not a key", edited((file) => (file.members[1]!.key = "nonsense")), "members[1].key: a verifier key has the form name+keyid+key"],
  ["a key with a wrong key id", edited((file) => (file.members[1]!.key = (file.members[1]!.key as string).replace(/\+[0-9a-f]{8}\+/, "+00000000+"))), "members[1].key: the key id 00000000 does not match"],
  [
    "a key of small order (the identity point: one signature verifies any message)",
    edited((file) => (file.members[2]!.key = verifierKeyText("audit.example", Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])))),
    "members[2].key: audit.example's public key is a point of small order or not a canonical encoding",
  ],
  ["a key named for another member", edited((file) => (file.members[2]!.key = memberKeyText("a.example"))), 'members[2].key: the key name "a.example" does not match the member name "audit.example"'],
  ["a duplicate name", edited((file) => (file.members[3] = { ...file.members[1], address: "127.0.0.1:9999" })), "members[3].name: the same name as members[1] (forum.example); each member's name must be unique"],
  ["one public key under two names", edited((file) => (file.members[3]!.key = memberKeyText("chat.example", "forum.example"))), "members[3].key: the same key as members[1] (forum.example); each member's key must be unique"],
  ["a duplicate address", edited((file) => (file.members[3]!.address = "127.0.0.1:7402")), "members[3].address: the same address as members[1] (forum.example)"],
  ["one IPv6 address spelt two ways", edited((file) => ((file.members[1]!.address = "[::1]:7401"), (file.members[3]!.address = "[0:0::1]:7401"))), "members[3].address: the same address as members[1]"],
  ["no validator", edited((file) => file.members.forEach((member) => (member.role = "observer"))), 'members: at least one member must have the role "validator"'],
];

const addressRows: Array<[address: string, message: string]> = [
  ["127.0.0.1", 'must have the form host:port (an IPv4 address, a [bracketed] IPv6 address or a host name, then a port), got "127.0.0.1"'],
  [":7401", "must have the form host:port"],
  ["127.0.0.1:0", 'the port must be a number from 1 to 65535, got "0"'],
  ["127.0.0.1:65536", 'the port must be a number from 1 to 65535, got "65536"'],
  ["127.0.0.1:07401", 'the port must be a number from 1 to 65535, got "07401"'],
  ["127.0.0.1:", 'the port must be a number from 1 to 65535, got ""'],
  ["256.0.0.1:7401", '"256.0.0.1" is not an IPv4 address'],
  ["127.0.0.01:7401", '"127.0.0.01" is not an IPv4 address (four numbers 0 to 255 without leading zeros)'],
  ["127.0.1:7401", '"127.0.1" is not an IPv4 address'],
  ["::1:7401", 'an IPv6 address goes in brackets, as in [::1]:7401, got "::1:7401"'],
  ["[zz::1]:7401", '"zz::1" is not an IPv6 address'],
  ["[fe80::1%eth0]:7401", "an IPv6 address in a federation file has no zone"],
  ["Node.example:7401", '"Node.example" is not a host name'],
  ["node_1.example:7401", '"node_1.example" is not a host name'],
  ["-node.example:7401", '"-node.example" is not a host name'],
  ["node..example:7401", '"node..example" is not a host name'],
  [`${"a".repeat(64)}.example:7401`, "is not a host name"],
];

const taxonomyRows: Row[] = [
  ["a taxonomy that is a list", edited((file) => ((file as Record<string, unknown>).taxonomy = [])), "taxonomy: must be a JSON object, got an array"],
  ["a misspelt taxonomy field", edited((file) => (file.taxonomy.label = [])), 'taxonomy.label: unknown field (did you mean "labels"?)'],
  ["version 0", edited((file) => (file.taxonomy.version = 0)), "taxonomy.version: must be an integer from 1 to 4294967295, got 0"],
  ["version 1.5", edited((file) => (file.taxonomy.version = 1.5)), "taxonomy.version: must be an integer from 1 to 4294967295, got 1.5"],
  ['version "1"', edited((file) => (file.taxonomy.version = "1")), 'taxonomy.version: must be an integer from 1 to 4294967295, got "1"'],
  ["no labels", edited((file) => (file.taxonomy.labels = [])), "taxonomy.labels: must list at least one label"],
  ["labels not a list", edited((file) => (file.taxonomy.labels = "recruitment")), 'taxonomy.labels: must be an array, got "recruitment"'],
  ["a label that is not a string", edited((file) => (file.taxonomy.labels = ["recruitment", 5])), "taxonomy.labels[1]: must be a string, got 5"],
  ["an upper-case label", edited((file) => (file.taxonomy.labels = ["Recruitment"])), "taxonomy.labels[0]: a label is 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit, got \"Recruitment\""],
  ["a label starting with '-'", edited((file) => (file.taxonomy.labels = ["-x"])), "taxonomy.labels[0]: a label is"],
  ["a label of 65 characters", edited((file) => (file.taxonomy.labels = ["l".repeat(65)])), "taxonomy.labels[0]: a label is"],
  ["a duplicate label", edited((file) => (file.taxonomy.labels = ["recruitment", "instruction", "recruitment"])), 'taxonomy.labels[2]: duplicate label "recruitment" (also taxonomy.labels[0])'],
  ["1025 labels", edited((file) => (file.taxonomy.labels = Array.from({ length: 1025 }, (_, index) => `l${index}`))), "taxonomy.labels: must list at most 1024 labels, got 1025"],
];

const parameterRows: Row[] = [
  ["parameters that are a list", edited((file) => (file.parameters = [] as unknown as Record<string, unknown>)), "parameters: must be a JSON object, got an array"],
  ["parameters that are null", edited((file) => (file.parameters = null as unknown as Record<string, unknown>)), "parameters: must be a JSON object, got null"],
  ["a misspelt parameter", edited((file) => (file.parameters = { pdqDistanceMx: 31 })), 'parameters.pdqDistanceMx: unknown parameter (did you mean "pdqDistanceMax"?); the parameters are pdqDistanceMax,'],
  ["an unknown parameter", edited((file) => (file.parameters = { matchThreshold: 31 })), "parameters.matchThreshold: unknown parameter; the parameters are"],
  ["pdqDistanceMax 70", edited((file) => (file.parameters = { pdqDistanceMax: 70 })), "parameters.pdqDistanceMax: must be an integer from 0 to 63, got 70"],
  ["a fraction", edited((file) => (file.parameters = { pdqQualityMin: 50.5 })), "parameters.pdqQualityMin: must be an integer from 0 to 100, got 50.5"],
  ["a number in a string", edited((file) => (file.parameters = { batchEntriesMax: "1000" })), 'parameters.batchEntriesMax: must be an integer from 1 to 10000, got "1000"'],
  ["a number too large for a double", edited((file) => (file.parameters = {})).replace('"parameters": {}', '"parameters": {"messageBytesMax": 1e400}'), "parameters.messageBytesMax: must be an integer from 65536 to 67108864, got Infinity"],
  ["null", edited((file) => (file.parameters = { timeoutDeltaMs: null })), "parameters.timeoutDeltaMs: must be an integer from 1 to 600000, got null"],
  ["a per-submitter quota above the mempool", edited((file) => (file.parameters = { mempoolPerSubmitterMax: 200_000 })), "parameters.mempoolPerSubmitterMax: must be at most mempoolStatementsMax (100000), got 200000"],
  ["a request larger than a member's quota", edited((file) => (file.parameters = { mempoolPerSubmitterMax: 500 })), "parameters.submissionsPerRequestMax: must be at most mempoolPerSubmitterMax (500), got 1000"],
];

describe.each([
  ["syntax and shape", syntaxRows],
  ["origin", originRows],
  ["members", memberRows],
  ["taxonomy", taxonomyRows],
  ["parameters", parameterRows],
])("rejects: %s", (_group, rows) => {
  test.each(rows)("%s", (_description, text, message) => {
    const error = rejection(text);
    expect(error.kind).toBe("invalid");
    expect(error.code).toBe("FEDERATION_INVALID");
    expect(error.message).toContain(message);
    // The path (or "the federation file") comes first, so a person knows where to look.
    expect(error.message.startsWith(message.split(":")[0]!)).toBe(true);
  });
});

test("a JSON syntax error at a known offset gives its line and column", () => {
  const error = rejection('{"origin": "a",\n  }');
  expect(error.message).toMatch(/^the federation file: is not valid JSON: .* \(line 2, column 3\)$/);
});

describe("addresses", () => {
  test.each(addressRows)("rejects %j", (address, message) => {
    const error = rejection(edited((file) => (file.members[1]!.address = address)));
    expect(error.code).toBe("FEDERATION_INVALID");
    expect(error.message.startsWith("members[1].address: ")).toBe(true);
    expect(error.message).toContain(message);
  });

  test.each(["10.0.0.1:1", "255.255.255.255:65535", "0.0.0.0:7401", "[::1]:7401", "[2001:db8::42]:443", "[::ffff:1.2.3.4]:7401", "node-1.example:7401", "localhost:7401", "a:1", "1a.example:7401"])(
    "accepts %j",
    (address) => {
      expect(() => parseFederation(edited((file) => (file.members[1]!.address = address)))).not.toThrow();
    },
  );
});

describe("boundaries that are accepted", () => {
  test("an origin of 255 printable characters, spaces allowed", () => {
    const origin = `rekor.example - ${"x".repeat(255 - 16)}`;
    expect(parseFederation(edited((file) => (file.origin = origin))).origin).toBe(origin);
  });

  test("an origin with quotes, braces and backslashes (the duplicate-key scan skips strings whole)", () => {
    const origin = 'a\\"}{[,:"b';
    expect(parseFederation(edited((file) => (file.origin = origin))).origin).toBe(origin);
  });

  test("a member name of 1 and of 253 characters", () => {
    const long = `${"a".repeat(249)}.com`;
    const text = edited((file) => {
      file.members[0] = { name: "x", key: memberKeyText("x"), address: "127.0.0.1:1", role: "validator" };
      file.members[1] = { name: long, key: memberKeyText(long), address: "127.0.0.1:2", role: "validator" };
    });
    expect(parseFederation(text).members.map((member) => member.name.length).sort((a, b) => a - b)).toEqual([1, 12, 13, 253]);
  });

  test("a label of 64 characters and a taxonomy of 1024 labels", () => {
    const labels = Array.from({ length: 1024 }, (_, index) => `l${index}`.padEnd(index === 0 ? 64 : 1, "x"));
    expect(parseFederation(edited((file) => (file.taxonomy.labels = labels))).taxonomy.labels.length).toBe(1024);
  });

  test("256 members", () => {
    const members = Array.from({ length: 256 }, (_, index) => ({
      name: `m${index}.example`,
      key: memberKeyText(`m${index}.example`),
      address: `127.0.0.1:${10_000 + index}`,
      role: "validator",
    }));
    expect(parseFederation(edited((file) => (file.members = members))).validators.length).toBe(256);
  });
});

/** Parameters that keep the relations (quota <= mempool, request <= quota) when `name` is set to `value`. */
function parametersWith(name: ParameterName, value: number): Record<string, number> {
  const parameters: Record<string, number> = { [name]: value };
  if (name === "mempoolStatementsMax") {
    parameters.mempoolPerSubmitterMax = Math.min(DEFAULT_PARAMETERS.mempoolPerSubmitterMax, value);
    parameters.submissionsPerRequestMax = Math.min(DEFAULT_PARAMETERS.submissionsPerRequestMax, value);
  }
  if (name === "mempoolPerSubmitterMax") {
    parameters.mempoolStatementsMax = Math.max(DEFAULT_PARAMETERS.mempoolStatementsMax, value);
    parameters.submissionsPerRequestMax = Math.min(DEFAULT_PARAMETERS.submissionsPerRequestMax, value);
  }
  // The largest batch must fit in a message.
  if (name === "batchEntriesMax" || name === "labelsPerStatementMax") parameters.messageBytesMax = PARAMETER_RULES.messageBytesMax.max;
  if (name === "messageBytesMax") parameters.batchEntriesMax = 16;
  return parameters;
}

test("the largest batch the parameters allow must fit in one message", () => {
  const error = rejection(edited((file) => (file.parameters = { batchEntriesMax: 10_000 })));
  expect(error.message).toBe(
    "parameters.messageBytesMax: must hold the largest batch: 10000 entries (batchEntriesMax) of up to 16 labels (labelsPerStatementMax), certified by 3 validators, take up to 20804096 bytes, got 4194304; raise messageBytesMax or lower batchEntriesMax",
  );
  expect(parseFederation(edited((file) => (file.parameters = { batchEntriesMax: 10_000, messageBytesMax: 20_804_096 }))).parameters.batchEntriesMax).toBe(10_000);
});

describe.each(PARAMETER_NAMES.map((name) => [name]))("parameter %s", (name) => {
  const { min, max, defaultValue } = PARAMETER_RULES[name];

  test("its default is within its range", () => {
    expect(defaultValue).toBeGreaterThanOrEqual(min);
    expect(defaultValue).toBeLessThanOrEqual(max);
    expect(Number.isInteger(defaultValue)).toBe(true);
  });

  test.each([min, max])("accepts %d", (value) => {
    const parsed = parseFederation(edited((file) => (file.parameters = parametersWith(name, value))));
    expect(parsed.parameters[name]).toBe(value);
  });

  test.each([min - 1, max + 1])("rejects %d", (value) => {
    const error = rejection(edited((file) => (file.parameters = parametersWith(name, value))));
    expect(error.message).toBe(`parameters.${name}: must be an integer from ${min} to ${max}, got ${value}`);
  });
});

test("an unknown field with an odd name is shown in brackets, cut short", () => {
  expect(rejection(edited((file) => (file["my origin"] = 1))).message).toMatch(/^\["my origin"\]: unknown field; the fields are/);
  const long = rejection(edited((file) => (file.taxonomy[`x y${"z".repeat(500)}`] = 1))).message;
  expect(long).toMatch(/^taxonomy\["x yz+\.\.\."\]: unknown field/);
  expect(long.length).toBeLessThan(200);
});
