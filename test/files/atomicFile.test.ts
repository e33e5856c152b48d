/**
 * Goal: a file written with writeFileAtomically is replaced whole, never rewritten in place, so a
 * reader (or a crash) sees the old contents or the new, never part of either; its mode is exact
 * whatever the umask; no temporary file is left; and an exclusive write never replaces a file.
 * Method: a reader that opened the old file before the write still reads the old contents after it
 * (a write in place, as writeFile does, shows it the new ones).
 */
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomically } from "../../src/files/atomicFile";

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "hashfed-atomic-"));
});
afterEach(() => rm(folder, { recursive: true, force: true }));

test("a file is replaced whole: a reader of the old one still reads it, and the new one has the exact mode", async () => {
  const path = join(folder, "state.json");
  await writeFile(path, "old contents", { mode: 0o644 });
  const reader = await open(path, "r");
  try {
    const umask = process.umask(0o077);
    try {
      await writeFileAtomically(path, "new contents", { mode: 0o640 });
    } finally {
      process.umask(umask);
    }
    expect((await reader.readFile()).toString()).toBe("old contents");
  } finally {
    await reader.close();
  }
  expect(await readFile(path, "utf8")).toBe("new contents");
  expect((await stat(path)).mode & 0o777).toBe(0o640);
  expect(await readdir(folder)).toEqual(["state.json"]);
});

test("an exclusive write refuses to replace a file that is there, which stays as it was", async () => {
  const path = join(folder, "key");
  await writeFileAtomically(path, "first", { mode: 0o600, exclusive: true });
  await expect(writeFileAtomically(path, "second", { mode: 0o600, exclusive: true })).rejects.toMatchObject({ code: "EEXIST" });
  expect(await readFile(path, "utf8")).toBe("first");
  expect(await readdir(folder)).toEqual(["key"]);
});
