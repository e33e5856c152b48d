import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { CLI } from "./cluster";

export interface CliResult {
  /** The exit code; null if a signal ended the process. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function checkBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p .\` (npm test builds first)`);
}

/**
 * Runs `hashfed <args>` (the compiled CLI) as a real process to completion. With `stdoutClosed`,
 * its output goes to a pipe whose reader has gone, as `hashfed ... | head -1` leaves it.
 */
export function runCli(
  args: readonly string[],
  options: { input?: string; cwd?: string; timeoutMs?: number; env?: Readonly<Record<string, string>>; stdoutClosed?: boolean } = {},
): Promise<CliResult> {
  checkBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...options.env } });
    let stdout = "";
    let stderr = "";
    if (options.stdoutClosed === true) child.stdout.destroy();
    else child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hashfed ${args.join(" ")} did not finish within ${options.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A long-running `hashfed <args>` (follow, node) whose output arrives line by line. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves with the first `count` complete stdout lines, failing after `timeoutMs`. */
  lines(count: number, timeoutMs?: number): Promise<string[]>;
  /** Everything written to stdout so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
}

export function spawnCli(args: readonly string[]): CliProcess {
  checkBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const complete = (): string[] => stdout.split("\n").slice(0, -1);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    lines: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (complete().length < count) return;
          cleanup();
          resolve(complete().slice(0, count));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`got ${complete().length} of ${count} lines within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
  };
}
