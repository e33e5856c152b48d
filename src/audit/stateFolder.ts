import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HashfedError } from "../errors";
import type { Federation } from "../federation";
import { AUDIT_FILE_MODE, AUDIT_FOLDER_MODE } from "./auditFileModes";
import { writeFileAtomically } from "../files/atomicFile";
import { type AuditState, formatAuditState, parseAuditState } from "./auditState";

export const STATE_FILE = "audit-state.json";
const LOCK_FILE = "audit.lock";

/**
 * The auditor's state folder: the state file, written atomically, and a lock so that two audits
 * sharing the folder cannot interleave a read and a write and roll the accepted checkpoint back
 * (the race the C2SP witness spec warns of). A lock left by a process that is gone is taken over.
 */
export class StateFolder {
  private constructor(
    readonly path: string,
    private readonly federation: Federation,
  ) {}

  /** Creates the folder (mode 0700) if needed and takes its lock. */
  static async open(path: string, federation: Federation): Promise<StateFolder> {
    await mkdir(path, { recursive: true, mode: AUDIT_FOLDER_MODE });
    await takeLock(join(path, LOCK_FILE));
    return new StateFolder(path, federation);
  }

  get stateFile(): string {
    return join(this.path, STATE_FILE);
  }

  /** The state kept here; a fresh state for the federation when there is none yet. */
  async read(): Promise<AuditState> {
    let text: string;
    try {
      text = await readFile(this.stateFile, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { federationId: this.federation.id };
      throw error;
    }
    return parseAuditState(text, this.federation, this.stateFile);
  }

  async write(state: AuditState): Promise<void> {
    await writeFileAtomically(this.stateFile, formatAuditState(state), { mode: AUDIT_FILE_MODE });
  }

  /** Gives the lock up, if it is still this process's. */
  async close(): Promise<void> {
    const lockFile = join(this.path, LOCK_FILE);
    if ((await readFile(lockFile, "utf8").catch(() => undefined)) === lockText()) await unlink(lockFile).catch(() => undefined);
  }
}

const lockText = (): string => `${process.pid}\n`;

/**
 * The lock file appears with its holder's process id already in it (written beside it, then
 * linked into place, which fails if a lock exists), so another audit never reads a lock without
 * one. A lock without a process id is taken for held.
 */
async function takeLock(lockFile: string): Promise<void> {
  const own = `${lockFile}.${process.pid}`;
  await writeFile(own, lockText(), { mode: AUDIT_FILE_MODE });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(own, lockFile);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const text = await readFile(lockFile, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      const holder = /^[1-9][0-9]{0,9}\n$/.test(text) ? Number(text) : undefined;
      if (holder === undefined) {
        throw new HashfedError("precondition", "STATE_IN_USE", `the lock ${lockFile} holds no process id; if no audit is using the state folder, remove the lock`);
      }
      if (isRunning(holder)) throw stateInUse(holder, lockFile);
      await removeStaleLock(lockFile, text);
    }
    throw new HashfedError("precondition", "STATE_IN_USE", `could not take the lock ${lockFile}: other audits took it first`);
  } finally {
    await unlink(own).catch(() => undefined);
  }
}

/**
 * Removes the lock of a process that is gone. It is moved aside first and removed only if it is
 * still that process's: another audit may have taken the stale lock over meanwhile, and its lock
 * is put back.
 */
async function removeStaleLock(lockFile: string, staleText: string): Promise<void> {
  const aside = `${lockFile}.stale.${process.pid}`;
  try {
    await rename(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const moved = await readFile(aside, "utf8");
  if (moved !== staleText) {
    await link(aside, lockFile).catch(() => undefined);
    await unlink(aside);
    throw stateInUse(moved.trim(), lockFile);
  }
  await unlink(aside);
}

function stateInUse(holder: number | string, lockFile: string): HashfedError {
  return new HashfedError("precondition", "STATE_IN_USE", `another audit (process ${holder}) is using the state folder; ${lockFile} is its lock`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
