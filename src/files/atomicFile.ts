import { randomBytes } from "node:crypto";
import { link, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** The file's exact permission bits (the umask does not apply). */
  readonly mode: number;
  /** Refuse, with an EEXIST error, to replace a file that is there. */
  readonly exclusive?: boolean;
}

/**
 * Writes `contents` to `path` so that a crash leaves the old file or the new one, never half of one:
 * a synced temporary file in the same folder, moved into place, then the folder synced so the new
 * name survives too. Key files, the auditor's state and evidence, and proof bundles are written so.
 */
export async function writeFileAtomically(path: string, contents: string, options: AtomicWriteOptions): Promise<void> {
  const folder = dirname(path);
  const temporaryPath = join(folder, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeSyncedFile(temporaryPath, contents, options.mode);
    if (options.exclusive === true) await moveUnlessTargetExists(temporaryPath, path, options.mode);
    else await rename(temporaryPath, path);
    await syncFolder(folder);
  } finally {
    await removeIfPresent(temporaryPath);
  }
}

async function writeSyncedFile(path: string, contents: string, mode: number): Promise<void> {
  // "wx": never follow or reuse a file that is already there, even a temporary one.
  const handle = await open(path, "wx", mode);
  try {
    // The umask can only clear bits of `mode`; chmod makes the mode exact either way.
    await handle.chmod(mode);
    await handle.writeFile(contents, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * link() fails if the target exists, atomically, so two writers cannot both believe they created the
 * file. Filesystems without hard links get a reserve-then-rename fallback, which is still exclusive.
 */
async function moveUnlessTargetExists(temporaryPath: string, path: string, mode: number): Promise<void> {
  try {
    await link(temporaryPath, path);
    return;
  } catch (error) {
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(errorCode(error) ?? "")) throw error;
  }
  await (await open(path, "wx", mode)).close();
  await rename(temporaryPath, path);
}

/** Makes the new directory entry durable: a synced file whose name was lost in a crash is no help. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    // After a successful move the temporary name is gone already.
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

/** The code of a Node.js system error (ENOENT, EEXIST...), if it is one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}
