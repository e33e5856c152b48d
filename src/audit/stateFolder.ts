import { mkdir, open, readFile, unlink } from "node:fs/promises";
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

  async close(): Promise<void> {
    await unlink(join(this.path, LOCK_FILE)).catch(() => undefined);
  }
}

async function takeLock(lockFile: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, "wx", AUDIT_FILE_MODE);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number((await readFile(lockFile, "utf8").catch(() => "")).trim());
    if (Number.isSafeInteger(holder) && holder > 0 && isRunning(holder)) {
      throw new HashfedError("precondition", "STATE_IN_USE", `another audit (process ${holder}) is using the state folder; ${lockFile} is its lock`);
    }
    await unlink(lockFile).catch(() => undefined);
  }
  throw new HashfedError("precondition", "STATE_IN_USE", `could not take the lock ${lockFile}: another audit took it first`);
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
