import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Files the auditor writes are for its operator: owner only, like the state they derive from. */
export const AUDIT_FILE_MODE = 0o600;
export const AUDIT_FOLDER_MODE = 0o700;

/**
 * Writes `contents` to `path` so that a crash leaves the old file or the new one, never half of one:
 * a synced temporary file in the same folder, renamed into place, then the folder synced so the new
 * name survives too. With `exclusive`, refuses (EEXIST) to replace a file that is there.
 */
export async function writeFileAtomically(path: string, contents: string, options: { exclusive?: boolean } = {}): Promise<void> {
  const folder = dirname(path);
  const temporaryPath = join(folder, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    // "wx": never follow or reuse a file that is already there, even a temporary one.
    const handle = await open(temporaryPath, "wx", AUDIT_FILE_MODE);
    try {
      // The umask can only clear bits of the mode; chmod makes it exact either way.
      await handle.chmod(AUDIT_FILE_MODE);
      await handle.writeFile(contents, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive === true) await (await open(path, "wx", AUDIT_FILE_MODE)).close();
    await rename(temporaryPath, path);
    const folderHandle = await open(folder, "r");
    try {
      await folderHandle.sync();
    } finally {
      await folderHandle.close();
    }
  } finally {
    await unlink(temporaryPath).catch((error: NodeJS.ErrnoException) => {
      // After a successful rename the temporary name is gone already.
      if (error.code !== "ENOENT") throw error;
    });
  }
}
