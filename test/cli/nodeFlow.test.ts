/**
 * Goal: a member's and an auditor's whole story through the `hashfed` command against a real node:
 * submit (for people and --json), match (exact, PDQ near-duplicates at the distance boundary),
 * retract, entry, status, follow; then the auditor's path: checkpoint (byte for byte what the Log
 * service serves), proofs fetched with `proof` and checked offline with `verify`, which must accept
 * what is right (exit 0) and refuse, with a precise reason on stderr (exit 1), a tampered proof, a
 * checkpoint of another federation, swapped checkpoints, and a note short of its quorum.
 * Method: one `hashfed node` process (test/support/cluster.ts startNodeProcess) on free loopback
 * ports for the whole file; every step runs the compiled CLI as a real process; results are checked
 * against the auditor's functions (verifyCosignedCheckpoint, verifyInclusion) over leaves read
 * from the node's Log service. Tests run in order and share the log they build.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { verifyCosignedCheckpoint } from "../../src/audit";
import { call, connectLog, connectMember, type Connection } from "../../src/client/rpc";
import { formatNote, generateSeed, parseNote, privateKeyFromSeed, signNoteText } from "../../src/crypto";
import type { LogClient } from "../../src/gen/hashfed/v1/log";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { formatCheckpoint, hashLeaf, verifyInclusion } from "../../src/log";
import { commitment } from "../../src/signals";
import { type CliResult, runCli, spawnCli } from "../support/cli";
import { type NodeProcess, type SoloSetup, soloFederation, startNodeProcess } from "../support/cluster";
import { addSubmission } from "../support/submissions";

let setup: SoloSetup;
let node: NodeProcess;
let log: Connection<LogClient>;

const file = (name: string): string => join(setup.folder, name);
const member = (...args: string[]): Promise<CliResult> => runCli([...args, "--node", setup.memberAddress]);
const auditor = (...args: string[]): Promise<CliResult> => runCli([...args, "--node", setup.publicAddress]);
const verify = (...args: string[]): Promise<CliResult> => runCli(["verify", ...args, "--federation", setup.federationFile]);

/** What the log holds as the tests build it. */
const shaValue = createHash("sha256").update("attacker manifesto.pdf").digest("hex");
const pdqValue = randomBytes(32);
let shaId: string;
let retractionId: string;
let submitJson: { acknowledgements: { statementId: string; logIndex: number; alreadyPresent: boolean; inclusionProof: string[] }[]; checkpoint: string };

/** A statement id printed in JSON: hex as src/cli/output.ts documents, or base64 as printed today. */
function idHex(text: string): string {
  return /^[0-9a-f]{64}$/.test(text) ? text : Buffer.from(text, "base64").toString("hex");
}

/** A PDQ hash at exactly `distance` bits from `hash`, the flipped bits spread over the whole hash. */
function nearDuplicate(hash: Buffer, distance: number): string {
  const copy = Buffer.from(hash);
  for (let bit = 0; bit < distance; bit++) copy[(bit * 8) % 32]! ^= 1 << Math.floor((bit * 8) / 32);
  return copy.toString("hex");
}

async function leafHashAt(index: number): Promise<Buffer> {
  const { entries } = await call(log, log.client.getEntries, { start: BigInt(index), end: BigInt(index) + 1n });
  return hashLeaf(LogEntry.encode(entries[0]!).finish());
}

function expectOk(result: CliResult): CliResult {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return result;
}

function expectRefused(result: CliResult, reason: string): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
  expect(result.stderr).toMatch(/^hashfed: /);
  expect(result.stderr).toContain(reason);
}

beforeAll(async () => {
  setup = await soloFederation();
  node = await startNodeProcess(setup);
  log = connectLog(setup.publicAddress);
});

afterAll(async () => {
  log?.client.close();
  if (node !== undefined && node.child.exitCode === null && node.child.signalCode === null) await node.kill("SIGTERM");
  await rm(setup.folder, { recursive: true, force: true });
});

test("on an empty log, status --json shows size 0 and checkpoint says the log is empty (exit 1)", async () => {
  const [status, checkpoint] = await Promise.all([member("status", "--json"), auditor("checkpoint")]);
  expect(JSON.parse(expectOk(status).stdout)).toEqual({
    member: "videohost.example",
    origin: "hashfed.example/test",
    federationId: setup.federation.id.toString("hex"),
    treeSize: 0,
    height: 0,
    checkpoint: "",
    liveSignals: 0,
    retractions: 0,
    pendingStatements: 0,
    version: "0.1.0",
    participation: "validating",
    // One validator: no peers; nothing committed yet, so no last commit.
    peersConnected: [],
  });
  expectRefused(checkpoint, "NOT_FOUND: the log is empty");
});

test("submit prints the statement, its log index, its proof and the cosigned checkpoint", async () => {
  const result = expectOk(await member("submit", "--type", "sha256", "--value", shaValue, "--label", "attacker-manifesto"));
  const match = /^committed: statement ([0-9a-f]{64}) at log index 0\n {2}inclusion proof: ?\ncheckpoint:\n([\s\S]*)$/.exec(result.stdout);
  expect(match).not.toBeNull();
  shaId = match![1]!;
  const verified = verifyCosignedCheckpoint(setup.federation, match![2]!);
  expect(verified.checkpoint.size).toBe(1n);
  expect(verified.checkpoint.root.equals(await leafHashAt(0))).toBe(true);
  // The first checkpoint an auditor saves, for the consistency check later.
  const saved = expectOk(await auditor("checkpoint")).stdout;
  expect(saved).toBe(match![2]);
  await writeFile(file("checkpoint-1.txt"), saved);
});

test("submit --json returns an acknowledgement whose proof verifies; the same hash again is already present", async () => {
  const pdq = expectOk(await member("submit", "--type", "pdq", "--value", pdqValue.toString("hex"), "--label", "graphic-violence", "glorification", "--quality", "80", "--json"));
  submitJson = JSON.parse(pdq.stdout) as typeof submitJson;
  const [ack] = submitJson.acknowledgements;
  expect(ack).toMatchObject({ logIndex: 1, alreadyPresent: false });
  const { checkpoint } = verifyCosignedCheckpoint(setup.federation, submitJson.checkpoint);
  expect(checkpoint.size).toBe(2n);
  const proof = ack!.inclusionProof.map((hash) => Buffer.from(hash, "base64"));
  const leaf = await leafHashAt(1);
  expect(() => verifyInclusion(1n, checkpoint.size, leaf, proof, checkpoint.root)).not.toThrow();

  const again = JSON.parse(expectOk(await member("submit", "--type", "sha256", "--value", shaValue, "--label", "attacker-manifesto", "--json")).stdout) as typeof submitJson;
  expect(again.acknowledgements).toHaveLength(1);
  expect(again.acknowledgements[0]).toMatchObject({ logIndex: 0, alreadyPresent: true });
  expect(idHex(again.acknowledgements[0]!.statementId)).toBe(shaId);
  expect(again.checkpoint).toBe(submitJson.checkpoint);
});

// Once a bug: --json printed statement ids in base64, which `retract --id` and `entry --id` do not
// take.
test("submit --json prints the statement id in hex, the form retract --id takes", () => {
  expect(submitJson.acknowledgements[0]!.statementId).toMatch(/^[0-9a-f]{64}$/);
});

test("match finds the exact hash, for people and with --json --proof (the proof verifies)", async () => {
  const [human, json] = await Promise.all([
    member("match", "--type", "sha256", "--value", shaValue),
    member("match", "--type", "sha256", "--value", shaValue.toUpperCase(), "--json", "--proof"),
  ]);
  expect(expectOk(human).stdout).toBe(`match at log index 0: distance 0, sha256 by videohost.example, labels attacker-manifesto\n  statement ${shaId}\n`);
  const response = JSON.parse(expectOk(json).stdout) as { results: { matches: { logIndex: number; statementId: string; distance: number; inclusionProof: string[] }[] }[]; checkpoint: string };
  const [found] = response.results[0]!.matches;
  expect(found).toMatchObject({ logIndex: 0, distance: 0 });
  expect(idHex(found!.statementId)).toBe(shaId);
  const { checkpoint } = verifyCosignedCheckpoint(setup.federation, response.checkpoint);
  const leaf = await leafHashAt(0);
  expect(() => verifyInclusion(0n, checkpoint.size, leaf, found!.inclusionProof.map((hash) => Buffer.from(hash, "base64")), checkpoint.root)).not.toThrow();
});

test("match finds a PDQ near-duplicate at distance 31 but not 32, and --distance narrows it", async () => {
  const at31 = nearDuplicate(pdqValue, 31);
  const at32 = nearDuplicate(pdqValue, 32);
  const [found31, none32, narrowed, exactly31, exact, tooFar] = await Promise.all([
    member("match", "--type", "pdq", "--value", at31, "--json"),
    member("match", "--type", "pdq", "--value", at32),
    member("match", "--type", "pdq", "--value", at31, "--distance", "30"),
    member("match", "--type", "pdq", "--value", at31, "--distance", "31"),
    member("match", "--type", "pdq", "--value", pdqValue.toString("hex"), "--distance", "0"),
    member("match", "--type", "pdq", "--value", at31, "--distance", "32"),
  ]);
  const matches = (JSON.parse(expectOk(found31).stdout) as { results: { matches: { logIndex: number; distance: number; labels: string[] }[] }[] }).results[0]!.matches;
  expect(matches).toEqual([expect.objectContaining({ logIndex: 1, distance: 31, labels: ["glorification", "graphic-violence"] })]);
  expect(expectOk(none32).stdout).toBe("no match\n");
  expect(expectOk(narrowed).stdout).toBe("no match\n");
  expect(expectOk(exactly31).stdout).toMatch(/^match at log index 1: distance 31, pdq by videohost\.example/);
  expect(expectOk(exact).stdout).toMatch(/^match at log index 1: distance 0, pdq/);
  expectRefused(tooFar, "distance_max is at most the federation's 31, got 32");
});

test("match --file matches many hashes in one run and prints a table, or JSON in query order; a bad line is named", async () => {
  const at31 = nearDuplicate(pdqValue, 31);
  const unknownMd5 = randomBytes(16).toString("hex");
  await writeFile(file("queries.txt"), `# hashes from today's uploads\nsha256 ${shaValue}\n\n${at31}\nmd5 ${unknownMd5}\n`);
  await writeFile(file("bad-queries.txt"), `sha256 ${shaValue}\nthree fields here\n`);
  const [table, json, bad] = await Promise.all([
    member("match", "--file", file("queries.txt"), "--type", "pdq"),
    member("match", "--file", file("queries.txt"), "--type", "pdq", "--json"),
    member("match", "--file", file("bad-queries.txt")),
  ]);
  const rows = expectOk(table).stdout.trimEnd().split("\n").map((line) => line.split("\t"));
  expect(rows[0]).toEqual(["query", "log index", "distance", "variant", "type", "submitter", "labels", "statement"]);
  expect(rows.slice(1).map((row) => row.slice(0, 3))).toEqual([
    [shaValue, "0", "0"],
    [at31, "1", "31"],
    [unknownMd5, "-", "-"],
  ]);
  const { results } = JSON.parse(expectOk(json).stdout) as { results: { query: { value: string }; matches: { logIndex: number }[] }[] };
  expect(results.map((result) => [result.query.value, result.matches.map((match) => match.logIndex)])).toEqual([
    [shaValue, [0]],
    [at31, [1]],
    [unknownMd5, []],
  ]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain(`bad-queries.txt line 2: expected "TYPE HEX", or "HEX" with --type, got "three fields here"`);
  // A hash the node refuses, in the second call of 1,000: named by its line (it was "queries[300]").
  const many = Array.from({ length: 1_500 }, (_, i) => (i === 1_430 ? "md5 abcd" : `md5 ${randomBytes(16).toString("hex")}`));
  await writeFile(file("bad-hash.txt"), `# a comment line first
${many.join("\n")}
`);
  const badHash = await member("match", "--file", file("bad-hash.txt"));
  expect(badHash.code).toBe(1);
  expect(badHash.stderr).toContain("bad-hash.txt line 1432: an md5 hash is 32 hex characters, got 4");
});

test("retract withdraws the entry: it no longer matches; retracting again acknowledges the first retraction", async () => {
  const result = expectOk(await member("retract", "--id", shaId, "--reason", "false-positive"));
  const match = /^committed: statement ([0-9a-f]{64}) at log index 2\n/.exec(result.stdout);
  expect(match).not.toBeNull();
  retractionId = match![1]!;
  const [matched, again, badReason, unknown] = await Promise.all([
    member("match", "--type", "sha256", "--value", shaValue),
    member("retract", "--id", shaId, "--reason", "duplicate"),
    member("retract", "--id", shaId, "--reason", "because"),
    member("retract", "--id", "ab".repeat(32), "--reason", "other"),
  ]);
  expect(expectOk(matched).stdout).toBe("no match\n");
  expect(expectOk(again).stdout).toMatch(
    new RegExp(`^already retracted, by the entry below; its reason stands, so a different --reason is not recorded: statement ${retractionId} at log index 2\n`),
  );
  expect(badReason.code).toBe(2); // a usage error
  expect(badReason.stderr).toContain("Allowed choices are false-positive, out-of-taxonomy, appeal-upheld, duplicate, other");
  expectRefused(unknown, "NOT_FOUND: submissions[0]: cannot retract abab");
  expect(unknown.stderr).toContain("no entry on the log has this statement id");
});

test("entry --index 0 --json shows the entry, its reveal and its retraction; entry --id agrees", async () => {
  const [json, byId, retraction, retractionJson, beyond] = await Promise.all([
    member("entry", "--index", "0", "--json"),
    member("entry", "--id", shaId),
    member("entry", "--index", "2"),
    member("entry", "--index", "2", "--json"),
    member("entry", "--index", "99"),
  ]);
  const view = JSON.parse(expectOk(json).stdout) as {
    logIndex: number;
    statementId: string;
    retractedBy: string;
    reveal: { salt: string; value: string };
    entry: { statement: string; signature: string };
    statement: { submitter: string; body: { $case: string; value: { signalType: string; commitment: string; labels: string[] } } };
  };
  expect(view.logIndex).toBe(0);
  expect(idHex(view.statementId)).toBe(shaId);
  expect(idHex(view.retractedBy)).toBe(retractionId);
  expect(view.statement.submitter).toBe("videohost.example");
  expect(view.statement.body).toMatchObject({ $case: "addSignal", value: { signalType: "sha256", labels: ["attacker-manifesto"] } });
  const value = Buffer.from(view.reveal.value, "base64");
  expect(value.toString("hex")).toBe(shaValue);
  expect(commitment("sha256", Buffer.from(view.reveal.salt, "base64"), value).toString("base64")).toBe(view.statement.body.value.commitment);
  const leaf = hashLeaf(LogEntry.encode({ statement: Buffer.from(view.entry.statement, "base64"), signature: Buffer.from(view.entry.signature, "base64") }).finish());
  expect(leaf.equals(await leafHashAt(0))).toBe(true);

  expect(expectOk(byId).stdout).toBe(`0  videohost.example  add sha256 ${shaValue} labels attacker-manifesto  id ${shaId} (retracted by ${retractionId})\n`);
  expect(expectOk(retraction).stdout).toBe(`2  videohost.example  retract ${shaId} (false-positive)  id ${retractionId}\n`);
  // The reason named as retract --reason takes it, not as the enum's number.
  expect((JSON.parse(expectOk(retractionJson).stdout) as { statement: { body: unknown } }).statement.body).toEqual({ $case: "retract", value: { target: shaId, reason: "false-positive" } });
  expectRefused(beyond, "OUT_OF_RANGE: log index 99 is beyond the log's size 3");
});

test("status --json counts the log and carries its latest checkpoint", async () => {
  const status = JSON.parse(expectOk(await member("status", "--json")).stdout) as Record<string, unknown>;
  const { checkpoint } = await call(log, log.client.getCheckpoint, {});
  expect(status).toMatchObject({ treeSize: 3, liveSignals: 1, retractions: 1, pendingStatements: 0, checkpoint });
  expect(status.height).toBeGreaterThanOrEqual(3);
});

test("a command given the other service's address says which address it needs", async () => {
  const [checkpointAtMember, statusAtLog] = await Promise.all([member("checkpoint"), auditor("status")]);
  expectRefused(checkpointAtMember, "UNIMPLEMENTED");
  expectRefused(checkpointAtMember, "give the node's Log address (its address in the federation file, port 7401 by default), not its Member address");
  expectRefused(statusAtLog, "give the node's Member address (--member-listen, 127.0.0.1:7400 by default), not its Log address");
});

test("checkpoint prints the signed note exactly as the Log service's GetCheckpoint returns it", async () => {
  const printed = expectOk(await auditor("checkpoint")).stdout;
  const { checkpoint } = await call(log, log.client.getCheckpoint, {});
  expect(Buffer.from(printed, "utf8").equals(Buffer.from(checkpoint, "utf8"))).toBe(true);
  expect(verifyCosignedCheckpoint(setup.federation, printed).checkpoint.size).toBe(3n);
  await writeFile(file("checkpoint-3.txt"), printed);
  const [fromFile, fromStdin] = await Promise.all([
    verify("checkpoint", file("checkpoint-3.txt")),
    runCli(["verify", "checkpoint", "-", "--federation", setup.federationFile, "--json"], { input: printed }),
  ]);
  expect(expectOk(fromFile).stdout).toMatch(/^valid: tree size 3, root \S+=, cosigned by videohost\.example\n$/);
  expect(JSON.parse(expectOk(fromStdin).stdout)).toMatchObject({ valid: true, treeSize: 3, signers: ["videohost.example"] });
});

describe("proof inclusion and verify inclusion", () => {
  beforeAll(async () => {
    const proofs = await Promise.all([0, 1, 2].map((index) => auditor("proof", "inclusion", "--index", String(index), "--size", "3", "--json")));
    await Promise.all(proofs.map((proof, index) => writeFile(file(`inclusion-${index}.json`), expectOk(proof).stdout)));
  });

  test("every entry's proof verifies against the saved checkpoint (exit 0), and names the entry's leaf", async () => {
    const results = await Promise.all([0, 1, 2].map((index) => verify("inclusion", "--checkpoint", file("checkpoint-3.txt"), "--proof", file(`inclusion-${index}.json`))));
    results.forEach((result, index) => expect(expectOk(result).stdout).toBe(`valid: entry ${index} is in the tree of size 3\n`));
    for (const index of [0, 1, 2]) {
      const document = JSON.parse(await readFile(file(`inclusion-${index}.json`), "utf8")) as { type: string; index: string; treeSize: string; leafHash: string };
      expect(document).toMatchObject({ type: "inclusion", index: String(index), treeSize: "3" });
      expect(Buffer.from(document.leafHash, "base64").equals(await leafHashAt(index))).toBe(true);
    }
    const json = await verify("inclusion", "--checkpoint", file("checkpoint-3.txt"), "--proof", file("inclusion-1.json"), "--json");
    expect(JSON.parse(expectOk(json).stdout)).toEqual({ valid: true, index: "1", treeSize: 3 });
  });

  test("a tampered proof exits 1 with a precise reason", async () => {
    const original = JSON.parse(await readFile(file("inclusion-1.json"), "utf8")) as { proof: string[]; leafHash: string; index: string };
    const flip = (base64: string): string => {
      const bytes = Buffer.from(base64, "base64");
      bytes[7]! ^= 0x10;
      return bytes.toString("base64");
    };
    const variants = {
      element: { ...original, proof: [flip(original.proof[0]!), ...original.proof.slice(1)] },
      leaf: { ...original, leafHash: flip(original.leafHash) },
      index: { ...original, index: "2" },
      short: { ...original, proof: original.proof.slice(1) },
    };
    await Promise.all(Object.entries(variants).map(([name, document]) => writeFile(file(`tampered-${name}.json`), JSON.stringify(document))));
    await writeFile(file("not-json.json"), "{ proof");
    const [element, leaf, index, short, notJson, wrongSize] = await Promise.all([
      ...Object.keys(variants).map((name) => verify("inclusion", "--checkpoint", file("checkpoint-3.txt"), "--proof", file(`tampered-${name}.json`))),
      verify("inclusion", "--checkpoint", file("checkpoint-3.txt"), "--proof", file("not-json.json")),
      verify("inclusion", "--checkpoint", file("checkpoint-1.txt"), "--proof", file("inclusion-1.json")),
    ]);
    for (const result of [element, leaf]) expectRefused(result!, "the proof does not match the root of the tree of size 3");
    expectRefused(index!, "an inclusion proof for index 2 in a tree of size 3 has 1 hashes, but this one has 2");
    expectRefused(short!, "an inclusion proof for index 1 in a tree of size 3 has 2 hashes, but this one has 1");
    expectRefused(notJson!, "not-json.json is not JSON");
    expectRefused(wrongSize!, "the proof is for tree size 3, the checkpoint for 1");
  });

  test("a proof file of the wrong shape exits 1 naming the field, not an internal error", async () => {
    const original = JSON.parse(await readFile(file("inclusion-1.json"), "utf8")) as object;
    const shapes: Array<[string, unknown, string]> = [
      ["no fields", { type: "inclusion" }, "shape-no fields.json, index: is required"],
      ["a fractional index", { ...original, index: "1.5" }, 'index: must be a decimal number from 0 to 2^64 - 1 in a string, got "1.5"'],
      ["null", null, "shape-null.json: must be a JSON object"],
      ["a leaf hash not in base64", { ...original, leafHash: "!!!" }, "leafHash: must be a 32-byte hash in canonical base64"],
      ["no proof list", { ...original, proof: null }, "proof: must be an array"],
    ];
    const results = await Promise.all(
      shapes.map(async ([name, document]) => {
        await writeFile(file(`shape-${name}.json`), JSON.stringify(document));
        return verify("inclusion", "--checkpoint", file("checkpoint-3.txt"), "--proof", file(`shape-${name}.json`));
      }),
    );
    results.forEach((result, position) => expectRefused(result, shapes[position]![2]));
  });

  test("a checkpoint of another federation exits 1, saying why", async () => {
    const stranger = privateKeyFromSeed("videohost.example", generateSeed());
    const ours = parseNote(await readFile(file("checkpoint-3.txt"), "utf8"));
    // The same origin and tree, signed by another federation's validator (who happens to share the name).
    await writeFile(file("foreign-same-origin.txt"), formatNote({ text: ours.text, signatures: [signNoteText(ours.text, stranger)] }));
    const otherText = formatCheckpoint({ origin: "hashfed.example/elsewhere", size: 3n, root: randomBytes(32), extensions: [] });
    await writeFile(file("foreign-origin.txt"), formatNote({ text: otherText, signatures: [signNoteText(otherText, stranger)] }));
    const [sameOrigin, otherOrigin] = await Promise.all([
      verify("inclusion", "--checkpoint", file("foreign-same-origin.txt"), "--proof", file("inclusion-1.json")),
      verify("inclusion", "--checkpoint", file("foreign-origin.txt"), "--proof", file("inclusion-1.json")),
    ]);
    expectRefused(sameOrigin, "valid signatures from 0 of 1 validators (none); a quorum is 1");
    expectRefused(otherOrigin, 'the checkpoint is for origin "hashfed.example/elsewhere", the federation\'s is "hashfed.example/test"');
  });
});

describe("proof consistency and verify consistency", () => {
  beforeAll(async () => {
    const proof = await auditor("proof", "consistency", "--first", "1", "--second", "3", "--json");
    await writeFile(file("consistency-1-3.json"), expectOk(proof).stdout);
  });

  test("between the checkpoints saved at size 1 and size 3: valid (exit 0); swapped: exit 1", async () => {
    const [valid, swapped] = await Promise.all([
      verify("consistency", "--old", file("checkpoint-1.txt"), "--new", file("checkpoint-3.txt"), "--proof", file("consistency-1-3.json")),
      verify("consistency", "--old", file("checkpoint-3.txt"), "--new", file("checkpoint-1.txt"), "--proof", file("consistency-1-3.json")),
    ]);
    expect(expectOk(valid).stdout).toBe("valid: the tree of size 1 is a prefix of the tree of size 3\n");
    expectRefused(swapped, "the proof is for sizes 1 -> 3, the checkpoints are 3 -> 1");
  });

  test("a tampered consistency proof, or an inclusion proof in its place, exits 1", async () => {
    const document = JSON.parse(await readFile(file("consistency-1-3.json"), "utf8")) as { proof: string[] };
    expect(document.proof.length).toBeGreaterThan(0);
    const bytes = Buffer.from(document.proof[0]!, "base64");
    bytes[0]! ^= 1;
    await writeFile(file("consistency-tampered.json"), JSON.stringify({ ...document, proof: [bytes.toString("base64"), ...document.proof.slice(1)] }));
    const [tampered, wrongType] = await Promise.all([
      verify("consistency", "--old", file("checkpoint-1.txt"), "--new", file("checkpoint-3.txt"), "--proof", file("consistency-tampered.json")),
      verify("consistency", "--old", file("checkpoint-1.txt"), "--new", file("checkpoint-3.txt"), "--proof", file("inclusion-0.json")),
    ]);
    expectRefused(tampered, "the proof does not match");
    expect(tampered.stderr).not.toMatch(/\n\s+at /); // a reason, not a stack trace
    expectRefused(wrongType, "holds a proof of inclusion, not of consistency");
  });
});

describe("verify checkpoint refuses a note short of its quorum", () => {
  let note: string;
  beforeAll(async () => {
    note = await readFile(file("checkpoint-3.txt"), "utf8");
  });

  test("with its signature line removed: exit 1 (a signed note needs a signature line)", async () => {
    const unsigned = note.split("\n").filter((line) => !line.startsWith("\u2014 ")).join("\n");
    expectRefused(await runCli(["verify", "checkpoint", "-", "--federation", setup.federationFile], { input: unsigned }), "needs at least one signature line");
  });

  test("with its signature line replaced by a non-validator's: exit 1, 0 of 1 validators, a quorum is 1", async () => {
    const parsed = parseNote(note);
    const other = privateKeyFromSeed("photoshare.example", generateSeed());
    const replaced = formatNote({ text: parsed.text, signatures: [signNoteText(parsed.text, other)] });
    expectRefused(await runCli(["verify", "checkpoint", "-", "--federation", setup.federationFile], { input: replaced }), "valid signatures from 0 of 1 validators (none); a quorum is 1");
  });

  test("with its signature bytes altered: exit 1", async () => {
    const parsed = parseNote(note);
    const signature = Buffer.from(parsed.signatures[0]!.signature);
    signature[10]! ^= 1;
    const altered = formatNote({ text: parsed.text, signatures: [{ ...parsed.signatures[0]!, signature }] });
    expectRefused(
      await runCli(["verify", "checkpoint", "-", "--federation", setup.federationFile], { input: altered }),
      "the signature by videohost.example",
    );
  });
});

test("follow --from 0 --json prints one JSON object per line for each entry, then new ones as they commit", async () => {
  const follower = spawnCli(["follow", "--from", "0", "--json", "--node", setup.memberAddress]);
  try {
    const lines = await follower.lines(3);
    const views = lines.map((line) => JSON.parse(line) as { logIndex: number; statementId: string; reveal?: { value: string }; statement: { body: { $case: string } } });
    expect(views.map((view) => view.logIndex)).toEqual([0, 1, 2]);
    expect(views.map((view) => idHex(view.statementId))).toEqual([shaId, idHex(submitJson.acknowledgements[0]!.statementId), retractionId]);
    expect(views.map((view) => view.statement.body.$case)).toEqual(["addSignal", "addSignal", "retract"]);
    expect(Buffer.from(views[1]!.reveal!.value, "base64").equals(pdqValue)).toBe(true);

    const md5 = randomBytes(16).toString("hex");
    const submitted = expectOk(await member("submit", "--type", "md5", "--value", md5, "--label", "content-incident-protocol"));
    const newId = /statement ([0-9a-f]{64}) at log index 3/.exec(submitted.stdout)![1];
    const fourth = JSON.parse((await follower.lines(4))[3]!) as { logIndex: number; statementId: string; reveal: { value: string } };
    expect(fourth.logIndex).toBe(3);
    expect(idHex(fourth.statementId)).toBe(newId);
    expect(Buffer.from(fourth.reveal.value, "base64").toString("hex")).toBe(md5);
  } finally {
    follower.child.kill("SIGTERM");
    await follower.exited;
  }
});

test("match --file whose hashes match more than one answer holds sends them again in smaller calls and prints every result", async () => {
  // Three more near-duplicates of the PDQ entry: each query of the file then matches four entries,
  // 4,000 a call of 1,000 queries, twice what one answer may hold.
  const submitter = connectMember(setup.memberAddress);
  try {
    await call(submitter, submitter.client.submit, { submissions: [5, 10, 20].map((distance) => addSubmission("pdq", nearDuplicate(pdqValue, distance))) });
  } finally {
    submitter.client.close();
  }
  await writeFile(file("many-matches.txt"), `${pdqValue.toString("hex")}\n`.repeat(1_000));
  const { results } = JSON.parse(expectOk(await member("match", "--file", file("many-matches.txt"), "--type", "pdq", "--json")).stdout) as { results: { matches: { distance: number }[] }[] };
  expect(results).toHaveLength(1_000);
  for (const result of results) expect(result.matches.map((match) => match.distance)).toEqual([0, 5, 10, 20]);
});

test("match --file --proof --json while the log grows: every match's proof verifies against the checkpoint it names", async () => {
  // Three calls of 1,000 (the known hash on the first and last lines) while commits keep coming:
  // each call answers against its own checkpoint; only the last was printed, and the first call's
  // proofs did not verify against it.
  const present = randomBytes(32).toString("hex");
  const submitter = connectMember(setup.memberAddress);
  const [acknowledgement] = (await call(submitter, submitter.client.submit, { submissions: [addSubmission("sha256", present)] })).acknowledgements;
  const presentIndex = Number(acknowledgement!.logIndex);
  await writeFile(file("growing.txt"), [present, ...Array.from({ length: 2_499 }, () => randomBytes(32).toString("hex")), present].join("\n"));
  let growing = true;
  const grow = (async () => {
    while (growing) await call(submitter, submitter.client.submit, { submissions: [addSubmission("md5", randomBytes(16).toString("hex"))] });
  })();
  const result = await member("match", "--file", file("growing.txt"), "--type", "sha256", "--proof", "--json");
  growing = false;
  await grow;
  submitter.client.close();
  type Result = { matches: { logIndex: number; inclusionProof: string[] }[]; checkpoint?: string };
  const { results, checkpoint } = JSON.parse(expectOk(result).stdout) as { results: Result[]; checkpoint: string };
  const leaf = await leafHashAt(presentIndex);
  for (const { matches, checkpoint: own } of [results[0]!, results[2_500]!]) {
    const { size, root } = verifyCosignedCheckpoint(setup.federation, own ?? checkpoint).checkpoint;
    expect(matches.map((match) => match.logIndex)).toEqual([presentIndex]);
    expect(() => verifyInclusion(BigInt(presentIndex), size, leaf, matches[0]!.inclusionProof.map((hash) => Buffer.from(hash, "base64")), root)).not.toThrow();
  }
  // Results without matches do not repeat the note.
  expect(results[1]!.checkpoint).toBeUndefined();
});

test("SIGTERM stops the node promptly even while a follower is connected; the follower then exits 1", async () => {
  const follower = spawnCli(["follow", "--from", "3", "--node", setup.memberAddress]);
  await follower.lines(1);
  // Not a bound on the time: 8 s only tells "stops" (the follower cut after a 2 s grace) from "hangs".
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 8000).unref());
  const code = await Promise.race([node.kill("SIGTERM"), timeout]);
  expect(code).toBe(0);
  const followerCode = await Promise.race([follower.exited, timeout]);
  if (followerCode === "timeout") follower.child.kill("SIGKILL");
  expect(followerCode).toBe(1);
  expect(follower.stderr()).toMatch(/^hashfed: /);
  expect(node.stderr()).toContain("SIGTERM: stopping");
});
