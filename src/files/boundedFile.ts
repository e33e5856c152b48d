import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { HashfedError } from "../errors";

/** How a caller names what went wrong, in its own words (a key file, a token file, a TLS file). */
export interface BoundedFileErrors {
  /** The file would not open: `error` is the system's. */
  readonly unopened: (error: unknown) => unknown;
  /** A folder, a FIFO, a device: `what` says which, as "it is a folder". */
  readonly notRegular: (what: string) => unknown;
  readonly tooLarge: () => unknown;
}

/**
 * A regular file's bytes, at most `maxBytes` of them, its mode checked on the opened file when it
 * holds a secret (checkOwnerOnly), so that the check and the read see the same file. Opened
 * non-blocking, so that a FIFO given as the file fails as not regular instead of waiting for a
 * writer (a node had hung at start on one). Synchronous: the files are small and read at start or
 * once per command, and the client's connection is made synchronously.
 */
export function readBoundedFile(path: string, { maxBytes, ownerOnly }: { maxBytes: number; ownerOnly: boolean }, errors: BoundedFileErrors): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw errors.unopened(error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw errors.notRegular(stats.isDirectory() ? "it is a folder" : "it is not a regular file");
    if (ownerOnly) checkOwnerOnly(path, stats.mode);
    // One byte past the bound, in case the file grew since it was opened.
    const buffer = Buffer.alloc(maxBytes + 1);
    const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
    if (bytesRead > maxBytes) throw errors.tooLarge();
    return buffer.subarray(0, bytesRead);
  } finally {
    closeSync(fd);
  }
}

/** Permission bits for group and others. */
const GROUP_AND_OTHERS_MODE_MASK = 0o077;

/** Refuses a file holding a secret (a key, a token) that group or others can reach. */
export function checkOwnerOnly(path: string, mode: number): void {
  if ((mode & GROUP_AND_OTHERS_MODE_MASK) === 0) return;
  const bits = (mode & 0o777).toString(8).padStart(4, "0");
  throw new HashfedError("forbidden", "KEY_FILE_PERMISSIONS", `${path} holds a secret but has mode ${bits}, so group or others can reach it; run: chmod 600 ${path}`);
}
