/**
 * Goal: the `hashfed` commands that need no running node do what an operator and an auditor rely
 * on: `keygen` writes a private key only its owner can read and prints a verifier key that parses;
 * it never silently replaces a key; `federation init/show` build and describe a federation file
 * with the right quorum; `verify checkpoint` accepts a note only when a quorum of the federation's
 * validators signed it; exit codes follow src/cli/main.ts (0 success, 1 error or failed
 * verification with the reason on stderr, 2 usage error); `demo` (the README's quick start) runs.
 * Method: the compiled CLI (dist/src/cli/main.js) run as a real process in a temporary folder;
 * outputs are parsed with the project's own parsers (parseVerifierKey, readPrivateKeyFile); the
 * multi-validator checkpoints are signed here with the validators' keys, as their nodes would.
 */
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatNote, generateSeed, parseVerifierKey, readPrivateKeyFile, type PrivateKey, privateKeyFromSeed, signNoteText, writeVerifierKeyFile } from "../../src/crypto";
import { parseFederation } from "../../src/federation";
import { formatCheckpoint } from "../../src/log";
import { type CliResult, runCli } from "../support/cli";

let folder: string;
const at = (name: string): string => join(folder, name);

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-cli-offline-"));
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe("hashfed keygen", () => {
  test("writes a 0600 private key and prints a verifier key that parses and matches it", async () => {
    const result = await runCli(["keygen", "--name", "videohost.example", "--out", at("video.key"), "--vkey-out", at("video.vkey")]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const printed = /^verifier key: (\S+)$/m.exec(result.stdout)?.[1];
    expect(printed).toBeDefined();
    const verifier = parseVerifierKey(printed!);
    expect(verifier.name).toBe("videohost.example");
    expect((await stat(at("video.key"))).mode & 0o777).toBe(0o600);
    const key = await readPrivateKeyFile(at("video.key"));
    expect(key.verifierKey.text).toBe(printed);
    expect((await readFile(at("video.vkey"), "utf8")).trim()).toBe(printed);
  });

  test("--json prints the name, key id and verifier key", async () => {
    const result = await runCli(["keygen", "--name", "photoshare.example", "--out", at("photo.key"), "--json"]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { name: string; keyId: string; verifierKey: string; privateKeyFile: string };
    const verifier = parseVerifierKey(printed.verifierKey);
    expect(printed).toEqual({ name: "photoshare.example", keyId: verifier.keyId.toString("hex"), verifierKey: verifier.text, privateKeyFile: at("photo.key") });
    expect((await readPrivateKeyFile(at("photo.key"))).verifierKey.text).toBe(printed.verifierKey);
  });

  test("writes nothing when it cannot write both files: a missing folder, or the same file twice", async () => {
    const missing = await runCli(["keygen", "--name", "half.example", "--out", at("half.key"), "--vkey-out", at("nowhere/half.vkey")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("the folder");
    expect(existsSync(at("half.key"))).toBe(false);
    const same = await runCli(["keygen", "--name", "same.example", "--out", at("same.key"), "--vkey-out", at("same.key"), "--force"]);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain("are the same file");
    expect(existsSync(at("same.key"))).toBe(false);
  });

  describe("on an existing key file", () => {
    let refused: Awaited<ReturnType<typeof runCli>>;
    let before: string;

    beforeAll(async () => {
      await runCli(["keygen", "--name", "keep.example", "--out", at("keep.key")]);
      before = await readFile(at("keep.key"), "utf8");
      refused = await runCli(["keygen", "--name", "keep.example", "--out", at("keep.key")]);
    });

    test("refuses to overwrite it without --force: exit 1, says so, the key is unchanged", async () => {
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toMatch(/^hashfed: .*keep\.key exists; pass --force to overwrite it/);
      expect(await readFile(at("keep.key"), "utf8")).toBe(before);
    });

    test("the refusal names --force, the option that overrides it", () => {
      expect(refused.stderr).toContain("--force");
    });

    test("--force replaces it with a new 0600 key", async () => {
      const result = await runCli(["keygen", "--name", "keep.example", "--out", at("keep.key"), "--force"]);
      expect(result.code).toBe(0);
      expect(await readFile(at("keep.key"), "utf8")).not.toBe(before);
      expect((await readPrivateKeyFile(at("keep.key"))).name).toBe("keep.example");
      expect((await stat(at("keep.key"))).mode & 0o777).toBe(0o600);
    });
  });

  // Once a bug: the private key was written before the verifier key file was checked, and stayed behind
  // when that failed.
  test("a refused --vkey-out writes no private key either", async () => {
    await writeFile(at("existing.vkey"), "placeholder\n");
    const result = await runCli(["keygen", "--name", "half.example", "--out", at("half.key"), "--vkey-out", at("existing.vkey")]);
    expect(result.code).toBe(1);
    await expect(stat(at("half.key"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("an invalid member name is an error (exit 1) that says why", async () => {
    const result = await runCli(["keygen", "--name", "bad name", "--out", at("bad.key")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hashfed: key name "bad name" must not contain spaces/);
    await expect(stat(at("bad.key"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

/** Four validators and an observer, with keys made here; one verifier key comes from `keygen`. */
describe("hashfed federation init / show, and verify checkpoint against a quorum", () => {
  const names = ["a.example", "b.example", "c.example", "d.example"];
  let keys: PrivateKey[];
  let observer: PrivateKey;
  let federationFile: string;
  let initOutput: string;

  beforeAll(async () => {
    keys = names.map((name) => privateKeyFromSeed(name, generateSeed()));
    observer = privateKeyFromSeed("observer.example", generateSeed());
    await writeVerifierKeyFile(at("a.vkey"), keys[0]!.verifierKey);
    await writeVerifierKeyFile(at("observer.vkey"), observer.verifierKey);
    federationFile = at("federation.json");
    const result = await runCli([
      "federation", "init",
      "--origin", "hashfed.example/pilot",
      "--validator", `${at("a.vkey")}@10.0.0.1:7401`,
      "--validator", `${keys[1]!.verifierKey.text}@10.0.0.2:7401`,
      "--validator", `${keys[2]!.verifierKey.text}@10.0.0.3:7401`, `${keys[3]!.verifierKey.text}@10.0.0.4:7401`,
      "--observer", `${at("observer.vkey")}@10.0.0.9:7401`,
      "--pdq-distance-max", "20",
      "--out", federationFile,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    initOutput = result.stdout;
  });

  test("init writes a file whose id it prints, and `show --json` describes it: quorum, members, parameters", async () => {
    const federation = parseFederation(await readFile(federationFile, "utf8"));
    expect(initOutput.trim()).toBe(`wrote ${federationFile}: federation ${federation.id.toString("hex")}`);
    const result = await runCli(["federation", "show", federationFile, "--json"]);
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      id: federation.id.toString("hex"),
      origin: "hashfed.example/pilot",
      validators: 4,
      quorum: 3,
      faultTolerance: 1,
      parameters: expect.objectContaining({ pdqDistanceMax: 20 }),
    });
    expect(shown.members).toEqual([
      ...keys.map((key, i) => ({ name: key.name, role: "validator", address: `10.0.0.${i + 1}:7401`, key: key.verifierKey.text })),
      { name: "observer.example", role: "observer", address: "10.0.0.9:7401", key: observer.verifierKey.text },
    ]);
  });

  test("show prints the quorum for people", async () => {
    const result = await runCli(["federation", "show", federationFile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("quorum     3 of 4 validators (tolerates 1 faulty)");
    expect(result.stdout).toMatch(/observer\s+observer\.example\s+10\.0\.0\.9:7401/);
  });

  // `hashfed federation show f.json | head -1`: it had ended in an unhandled EPIPE and a stack trace.
  test("show to a pipe whose reader has gone exits 0 without a word", async () => {
    expect(await runCli(["federation", "show", federationFile], { stdoutClosed: true })).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("init refuses to overwrite the file without --force (exit 1)", async () => {
    const result = await runCli(["federation", "init", "--origin", "hashfed.example/other", "--validator", `${at("a.vkey")}@10.0.0.1:7401`, "--out", federationFile]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("exists; pass --force to overwrite it");
    expect(parseFederation(await readFile(federationFile, "utf8")).origin).toBe("hashfed.example/pilot");
  });

  test("a member argument without @address is an error that shows the expected form", async () => {
    const result = await runCli(["federation", "init", "--origin", "hashfed.example/x", "--validator", at("a.vkey"), "--out", at("never.json")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("a member is <verifier key or file>@<host:port>");
  });

  describe("verify checkpoint", () => {
    const body = formatCheckpoint({ origin: "hashfed.example/pilot", size: 42n, root: randomBytes(32), extensions: [] });
    const note = (signers: readonly PrivateKey[]): string => formatNote({ text: body, signatures: signers.map((key) => signNoteText(body, key)) });
    const verify = (text: string, ...extra: string[]) => runCli(["verify", "checkpoint", "-", "--federation", federationFile, ...extra], { input: text });

    test("accepts a note signed by all four validators, and by three (a quorum)", async () => {
      const [all, three] = await Promise.all([verify(note(keys), "--json"), verify(note(keys.slice(1)))]);
      expect(all.code).toBe(0);
      expect(JSON.parse(all.stdout)).toMatchObject({ valid: true, treeSize: 42, signers: names });
      expect(three.code).toBe(0);
      expect(three.stdout).toContain("valid: tree size 42");
      expect(three.stdout).toContain("cosigned by b.example, c.example, d.example");
    });

    test("with a validator's signature line removed from a quorum of three: exit 1, short of quorum", async () => {
      const lines = note(keys.slice(0, 3)).split("\n");
      const removed = lines.filter((line) => !line.startsWith("\u2014 b.example ")).join("\n");
      const result = await verify(removed);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("valid signatures from 2 of 4 validators (a.example, c.example); a quorum is 3");
    });

    test("an observer's signature, or the same validator's twice, does not make a quorum", async () => {
      const [withObserver, twice] = await Promise.all([verify(note([keys[0]!, keys[1]!, observer])), verify(note([keys[0]!, keys[1]!, keys[1]!]))]);
      for (const result of [withObserver, twice]) {
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("2 of 4 validators");
      }
    });

    test("a signature over another text by a validator's key is refused (exit 1)", async () => {
      const forged = body.replace("\n42\n", "\n43\n");
      const text = forged + "\n" + note(keys).split("\n\n")[1];
      const result = await verify(text);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^hashfed: the signature by a\.example \(key id [0-9a-f]{8}\) does not verify over the note text/);
    });

    test("a checkpoint of another origin is refused, naming both origins", async () => {
      const otherBody = formatCheckpoint({ origin: "hashfed.example/elsewhere", size: 1n, root: randomBytes(32), extensions: [] });
      const result = await verify(formatNote({ text: otherBody, signatures: keys.map((key) => signNoteText(otherBody, key)) }));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('"hashfed.example/elsewhere"');
      expect(result.stderr).toContain('"hashfed.example/pilot"');
    });
  });
});

describe("exit codes: 2 for usage errors, 1 for errors", () => {
  const usage: [string, string[], string][] = [
    ["a missing required option", ["keygen"], "required option '--name <name>' not specified"],
    ["an unknown command", ["frobnicate"], "unknown command 'frobnicate'"],
    ["an unknown option", ["status", "--frobnicate"], "unknown option '--frobnicate'"],
    ["a missing argument", ["federation", "show"], "missing required argument 'file'"],
    ["a missing option of verify", ["verify", "inclusion", "--checkpoint", "c", "--proof", "p"], "required option '--federation <file>' not specified"],
    // grpc-js had refused the deadline with a stack trace.
    ["a --timeout beyond a day", ["submit", "--node", "127.0.0.1:1", "--type", "md5", "--value", "00", "--label", "x", "--timeout", "9007199254740991"], "expected at most 86400000 ms (a day)"],
    // These three exited 1, as errors.
    ["match without a hash", ["match", "--node", "127.0.0.1:1"], "give either --value (with --type) or --file"],
    ["match --value without --type", ["match", "--node", "127.0.0.1:1", "--value", "00"], "--value needs --type"],
    // These two had been dropped without a word, and the hash matched exactly.
    ["match --dihedral on an md5 hash", ["match", "--node", "127.0.0.1:1", "--type", "md5", "--value", "00", "--dihedral"], "--dihedral and --quality apply to pdq hashes only, not to md5"],
    ["match --quality on a sha256 hash", ["match", "--node", "127.0.0.1:1", "--type", "sha256", "--value", "00", "--quality", "90"], "--dihedral and --quality apply to pdq hashes only, not to sha256"],
    ["a statement id not in hex", ["retract", "--node", "127.0.0.1:1", "--id", "zz", "--reason", "other"], "the statement id must be 64 hex characters"],
    // It had listened on port 443 (the host taken as "127.0.0.1" before a missing port).
    ["a listening address without a port", ["node", "--key", "k", "--federation", "f", "--data", "d", "--member-listen", "127.0.0.1"], "must have the form host:port"],
  ];
  const numeric: [string, string[]][] = [
    ["entry --index", ["entry", "--node", "127.0.0.1:1", "--index", "abc"]],
    ["match --distance", ["match", "--node", "127.0.0.1:1", "--type", "pdq", "--value", "00", "--distance", "abc"]],
    ["submit --quality", ["submit", "--node", "127.0.0.1:1", "--type", "pdq", "--value", "00", "--label", "x", "--quality", "abc"]],
    ["federation init --pdq-distance-max", ["federation", "init", "--origin", "o", "--out", "/nonexistent/f.json", "--pdq-distance-max", "abc"]],
  ];
  const others: Record<string, string[]> = {
    version: ["--version"],
    help: ["--help"],
    broken: ["federation", "show", "broken.json"],
    unreachable: ["status", "--node", "127.0.0.1:1"],
    missing: ["federation", "show", "no-such-file.json"],
    tokenFolder: ["status", "--node", "127.0.0.1:1", "--token-file", "."],
    tokenExposed: ["status", "--node", "127.0.0.1:1", "--token-file", "exposed.token"],
  };
  /** Every case runs up front, concurrently: they are independent and each is a process start. */
  const results = new Map<string, CliResult>();
  const result = (key: string): CliResult => results.get(key)!;

  beforeAll(async () => {
    await writeFile(at("broken.json"), JSON.stringify({ origin: "x", members: [] }));
    await writeFile(at("exposed.token"), "a-member-token-of-enough-characters\n");
    await chmod(at("exposed.token"), 0o644);
    const cases: [string, string[]][] = [...usage.map(([what, args]): [string, string[]] => [what, args]), ...numeric, ...Object.entries(others)];
    await Promise.all(cases.map(async ([key, args]) => results.set(key, await runCli(args, { cwd: folder }))));
  });

  test.each(usage)("%s exits 2", (what, _args, message) => {
    expect(result(what).code).toBe(2);
    expect(result(what).stderr).toContain(message);
  });

  test("--version and --help exit 0", () => {
    expect(result("version")).toMatchObject({ code: 0, stdout: "0.1.0\n" });
    expect(result("help").code).toBe(0);
    expect(result("help").stdout).toContain("keygen");
  });

  test("an invalid federation file exits 1 and names the field", () => {
    expect(result("broken").code).toBe(1);
    expect(result("broken").stderr).toMatch(/^hashfed: .*(members|taxonomy|parameters)/);
  });

  test("a node that is not there exits 1 with UNAVAILABLE", () => {
    expect(result("unreachable").code).toBe(1);
    expect(result("unreachable").stderr).toMatch(/^hashfed: UNAVAILABLE: cannot reach the node/);
  });

  // Once a bug: an error that was neither a HashfedError nor a gRPC error (a missing file) was printed
  // with its stack.
  test("a missing file exits 1 with a one-line message, not a stack trace", () => {
    expect(result("missing").code).toBe(1);
    expect(result("missing").stderr).toContain("no-such-file.json");
    expect(result("missing").stderr.trim().split("\n")).toHaveLength(1);
  });

  test("a token file that is a folder exits 1 naming it (it was EISDIR with no path)", () => {
    expect(result("tokenFolder").code).toBe(1);
    expect(result("tokenFolder").stderr).toBe("hashfed: cannot read the token file .: it is a folder\n");
  });

  test("a token file that group or others can read exits 1, as the node refuses its own (the client had sent it)", () => {
    expect(result("tokenExposed").code).toBe(1);
    expect(result("tokenExposed").stderr).toBe("hashfed: exposed.token holds a secret but has mode 0644, so group or others can reach it; run: chmod 600 exposed.token\n");
  });

  // Once a bug: numeric options went through Number() or BigInt() unchecked (stack traces; NaN sent to
  // the node). A non-number is a usage error, exit 2, naming the option.
  test.each(numeric)("a non-numeric %s is a usage error (exit 2)", (what) => {
    expect(result(what).code).toBe(2);
    expect(result(what).stderr).toContain("abc");
  });
});

test("demo (the README's quick start) exits 0 and prints Done.", async () => {
  const result = await runCli(["demo"], { timeoutMs: 60_000 });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const { stdout } = result;
  expect(stdout).toMatch(/all four nodes serving and taking part in consensus \d+ ms after the first started\n.*\n.*committed by consensus at log indexes 0, 1, 2 in \d+ ms, checkpoint cosigned by [34] of 4/);
  for (const other of ["forum.example", "photoshare.example", "streaming.example"]) {
    expect(stdout).toMatch(new RegExp(`${other} +match: distance 12, shared by videohost.example`));
  }
  for (const member of ["forum.example", "photoshare.example", "videohost.example"]) expect(stdout).toMatch(new RegExp(`${member} +no match`));
  expect(stdout).toMatch(/it holds 5 entries, root equal to videohost.example's: true/);
  expect(stdout).toMatch(/cosigned by [34] validators/);
  expect(stdout).toContain("(the leaf served matches: true)");
  expect(stdout).toContain("the log only grew");
  expect(stdout.trimEnd().endsWith("Done.")).toBe(true);
});

describe("hashfed --help", () => {
  /** The subcommand names a help page lists under "Commands:" (its own `help` left out). */
  const subcommands = (help: string): string[] => {
    // The section ends at its first blank line (audit's help lists its exit codes after it).
    const section = (help.split(/^Commands:$/m)[1] ?? "").split(/\n\s*\n/)[0]!;
    return [...section.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1]!).filter((name) => name !== "help");
  };

  test("every command and subcommand prints its help and exits 0", async () => {
    const pages: string[] = [];
    const visit = async (path: string[]): Promise<void> => {
      const result = await runCli([...path, "--help"]);
      expect({ path: path.join(" "), code: result.code, stderr: result.stderr }).toEqual({ path: path.join(" "), code: 0, stderr: "" });
      expect(result.stdout).toMatch(/^Usage: hashfed/);
      pages.push(path.join(" "));
      await Promise.all(subcommands(result.stdout).map((name) => visit([...path, name])));
    };
    await visit([]);
    // The walk reached the nested commands, not just the top level.
    expect(pages).toEqual(expect.arrayContaining(["follow", "proof inclusion", "audit verify-evidence", "federation init"]));
  }, 60_000);
});
