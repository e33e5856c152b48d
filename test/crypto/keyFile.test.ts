import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HashfedError } from "../../src/errors";
import { KEY_FILE_BYTES_MAX, readPrivateKeyFile, readTokenFile, readVerifierKeyFile, writePrivateKeyFile, writeVerifierKeyFile } from "../../src/crypto/keyFile";
import { privateKeyFromSeed } from "../../src/crypto/keys";
import { pseudoRandomBytes } from "./testBytes";

/** The error a promise rejects with, as [kind, code]. */
async function failure(run: () => Promise<unknown>): Promise<[string, string]> {
  try {
    await run();
  } catch (error) {
    if (error instanceof HashfedError) return [error.kind, error.code];
    throw error;
  }
  return ["none", "no error"];
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

const key = privateKeyFromSeed("member.example", pseudoRandomBytes("keyfile/key", 32));
const otherKey = privateKeyFromSeed("other.example", pseudoRandomBytes("keyfile/other", 32));
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-keyfile-"));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe("private key files", () => {
  test("are written with mode 0600, hold the key text and a newline, and read back as the same key", async () => {
    const path = join(folder, "member.key");
    await writePrivateKeyFile(path, key);
    expect(await modeOf(path)).toBe(0o600);
    expect(await readFile(path, "utf8")).toBe(key.text + "\n");
    expect((await readPrivateKeyFile(path)).text).toBe(key.text);
    // No temporary file is left behind.
    expect(await readdir(folder)).toEqual(["member.key"]);
  });

  test("an existing key is not overwritten unless asked, and the refusal says so", async () => {
    const path = join(folder, "member.key");
    await writePrivateKeyFile(path, key);
    await expect(writePrivateKeyFile(path, otherKey)).rejects.toThrow(/refusing to overwrite the existing key file/);
    expect(await failure(() => writePrivateKeyFile(path, otherKey))).toEqual(["exists", "KEY_FILE_EXISTS"]);
    expect((await readPrivateKeyFile(path)).text).toBe(key.text);

    await writePrivateKeyFile(path, otherKey, { overwrite: true });
    expect((await readPrivateKeyFile(path)).text).toBe(otherKey.text);
    expect(await modeOf(path)).toBe(0o600);
    expect(await readdir(folder)).toEqual(["member.key"]);
  });

  test.each([0o640, 0o604, 0o620, 0o602, 0o644, 0o660])("a file with mode %o is refused with the chmod to run", async (mode) => {
    const path = join(folder, "member.key");
    await writePrivateKeyFile(path, key);
    await chmod(path, mode);
    expect(await failure(() => readPrivateKeyFile(path))).toEqual(["forbidden", "KEY_FILE_PERMISSIONS"]);
    await expect(readPrivateKeyFile(path)).rejects.toThrow(`chmod 600 ${path}`);
  });

  // The mode's refusal ("chmod 600") had come first, and following it led only to the next refusal.
  test("a verifier key file given for the private key says so, whatever its mode", async () => {
    const path = join(folder, "member.vkey");
    await writeVerifierKeyFile(path, key.verifierKey);
    for (const mode of [0o644, 0o600]) {
      await chmod(path, mode);
      await expect(readPrivateKeyFile(path)).rejects.toMatchObject({
        code: "KEY_FILE_IS_VERIFIER_KEY",
        message: `${path} holds a verifier key, which is public: give the member's private key file (its text starts with PRIVATE+KEY+), which hashfed keygen wrote beside it`,
      });
    }
  });

  test("a read-only file for its owner (0400) is accepted", async () => {
    const path = join(folder, "member.key");
    await writePrivateKeyFile(path, key);
    await chmod(path, 0o400);
    expect((await readPrivateKeyFile(path)).text).toBe(key.text);
  });

  test("a missing file, a folder and a missing folder get precise errors", async () => {
    expect(await failure(() => readPrivateKeyFile(join(folder, "absent.key")))).toEqual(["not-found", "KEY_FILE_MISSING"]);
    await expect(readPrivateKeyFile(join(folder, "absent.key"))).rejects.toThrow(`no key file at ${join(folder, "absent.key")}`);
    await mkdir(join(folder, "sub"), { mode: 0o700 });
    expect(await failure(() => readPrivateKeyFile(join(folder, "sub")))).toEqual(["invalid", "KEY_FILE_NOT_A_FILE"]);
    expect(await failure(() => writePrivateKeyFile(join(folder, "nowhere", "member.key"), key))).toEqual(["not-found", "KEY_FILE_FOLDER_MISSING"]);
  });

  test.each([
    ["an empty file", "", "KEY_FILE_MALFORMED"],
    ["a blank line", "\n", "KEY_FILE_MALFORMED"],
    ["two lines", `${key.text}\n${key.text}\n`, "KEY_FILE_MALFORMED"],
    ["Windows line ending", `${key.text}\r\n`, "KEY_FILE_MALFORMED"],
    ["garbage", "hello\n", "KEY_MALFORMED"],
    ["a wrong key id", `${key.text.replace(key.keyId.toString("hex"), "00000000")}\n`, "KEY_ID_MISMATCH"],
    ["a file too large", "x".repeat(KEY_FILE_BYTES_MAX + 1), "KEY_FILE_TOO_LARGE"],
  ])("%s is refused as malformed, naming the file", async (_what, contents, code) => {
    const path = join(folder, "member.key");
    await writeFile(path, contents, { mode: 0o600 });
    expect(await failure(() => readPrivateKeyFile(path))).toEqual(["invalid", code]);
    await expect(readPrivateKeyFile(path)).rejects.toThrow(path);
  });

  test("a file not valid UTF-8 is refused", async () => {
    const path = join(folder, "member.key");
    await writeFile(path, Buffer.from([0x50, 0xff, 0x0a]), { mode: 0o600 });
    expect(await failure(() => readPrivateKeyFile(path))).toEqual(["invalid", "KEY_FILE_MALFORMED"]);
  });

  test("a hand-written file without the final newline is accepted", async () => {
    const path = join(folder, "member.key");
    await writeFile(path, key.text, { mode: 0o600 });
    expect((await readPrivateKeyFile(path)).text).toBe(key.text);
  });
});

describe("verifier key files", () => {
  test("are written with mode 0644 and read back as the same key", async () => {
    const path = join(folder, "member.vkey");
    await writeVerifierKeyFile(path, key.verifierKey);
    expect(await modeOf(path)).toBe(0o644);
    expect(await readFile(path, "utf8")).toBe(key.verifierKey.text + "\n");
    expect((await readVerifierKeyFile(path)).text).toBe(key.verifierKey.text);
  });

  test("an existing file is not overwritten unless asked", async () => {
    const path = join(folder, "member.vkey");
    await writeVerifierKeyFile(path, key.verifierKey);
    expect(await failure(() => writeVerifierKeyFile(path, otherKey.verifierKey))).toEqual(["exists", "KEY_FILE_EXISTS"]);
    await writeVerifierKeyFile(path, otherKey.verifierKey, { overwrite: true });
    expect((await readVerifierKeyFile(path)).text).toBe(otherKey.verifierKey.text);
  });

  test("a private key where a verifier key belongs is refused and called what it is", async () => {
    const path = join(folder, "member.vkey");
    await writeFile(path, key.text + "\n", { mode: 0o600 });
    await expect(readVerifierKeyFile(path)).rejects.toThrow("this is a private key, not a verifier key");
  });
});

describe("member token files", () => {
  test("a token is one line of visible ASCII, at least 16 characters; a refusal never quotes it", async () => {
    const cases: Array<[string, string]> = [
      ["0123456789abcdef-token\n", "accepted"],
      ["éééééééééééééééééééé\n", "TOKEN_CHARACTERS"],
      ["line1-0123456789\nline2\n", "KEY_FILE_MALFORMED"],
      ["with a space 0123456789\n", "TOKEN_CHARACTERS"],
      ["short\n", "TOKEN_TOO_SHORT"],
    ];
    for (const [text, expected] of cases) {
      const path = join(folder, "token");
      await writeFile(path, text, { mode: 0o600 });
      await chmod(path, 0o600);
      let outcome: string;
      try {
        outcome = (await readTokenFile(path)) === text.trim() ? "accepted" : "changed";
      } catch (error) {
        if (!(error instanceof HashfedError)) throw error;
        expect(error.message).not.toContain(text.trim().slice(0, 8));
        outcome = error.code;
      }
      expect([text, outcome]).toEqual([text, expected]);
    }
  });
});
