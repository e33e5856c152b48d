import { randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import {
  type AuditEnvironment,
  Auditor,
  auditReportJson,
  type AuditReport,
  checkForkEvidenceFile,
  describeFork,
  formatAuditReport,
  type ProvenFork,
  type ReplayProgress,
  StateFolder,
  VERDICT_EXIT_CODES,
  verdictOf,
} from "../../audit";
import { parseFederation } from "../../federation";
import { nonNegativeInteger, timeoutMs } from "../arguments";
import { print, toJson } from "../output";

const AUDIT_EXIT_CODES_HELP = `
Exit codes:
  0  the log verified: every checkpoint cosigned by a quorum and consistent with the last one
     accepted and with each other, and the entries checked (sampled, or all with --full) are valid
  1  a check failed (a checkpoint short of quorum, a history that shrank, a tampered entry, a bad
     signature or rule, a proof that does not verify: the report says which), or the audit could
     not run (the reason on stderr)
  2  usage error
  3  fork: two quorum-cosigned checkpoints cannot both be true; the evidence file is written
     (check it with \`hashfed audit verify-evidence\`)
  4  incomplete: a node could not be reached or could not be related to the accepted checkpoint,
     and nothing failed
With --follow, rounds go on until a round ends with 1 or 3, or the command is interrupted; the exit
code is the last round's.`;

interface AuditCommandOptions {
  federation: string;
  node?: string[];
  state: string;
  full?: boolean;
  samples: number;
  follow?: boolean;
  interval: number;
  evidenceDir?: string;
  timeout: number;
  json?: boolean;
  progress: boolean;
}

/** How often a long replay reports its progress on stderr. */
const PROGRESS_INTERVAL_MS = 2000;

export function addAuditCommands(program: Command): void {
  const audit = program
    .command("audit")
    .description("verify a federation's log end to end from its nodes' Log services, trusting no node and seeing no hash")
    .option("--federation <file>", "the federation file")
    .option("--node <host:port>", "a node's Log service; repeat for several nodes", (value: string, previous: string[] = []) => [...previous, value])
    .option("--state <folder>", "where the auditor keeps the last checkpoint it accepted (created with mode 0700)")
    .option("--full", "replay the whole log: every root, statement signature, submitter and rule (default: sample entries)")
    .option("--samples <n>", "without --full: entries checked with inclusion proofs each round", nonNegativeInteger, 16)
    .option("--follow", "keep auditing as the log grows, one round per interval, until interrupted")
    .option("--interval <seconds>", "with --follow: seconds between rounds", positiveSeconds, 10)
    .option("--evidence-dir <folder>", "where fork evidence files are written, created if missing (default: the state folder)")
    .option("--timeout <ms>", "how long one call to a node may take", timeoutMs, 30_000)
    .option("--json", "print each round's report as JSON (one line per round with --follow)")
    .option("--no-progress", "print no progress lines on stderr during a replay")
    .addHelpText("after", AUDIT_EXIT_CODES_HELP)
    .action(async (options: AuditCommandOptions, command: Command) => {
      if (options.federation === undefined) command.error("error: required option '--federation <file>' not specified");
      if (options.state === undefined) command.error("error: required option '--state <folder>' not specified");
      if (options.node === undefined) command.error("error: give at least one --node <host:port>");
      process.exitCode = await runAudit(options, options.node);
    });
  audit
    .command("verify-evidence")
    .description("check a fork evidence file offline against the federation file (exit 0: it proves a fork; 1: it does not)")
    .argument("<file>", "the evidence file written by `hashfed audit`")
    .requiredOption("--federation <file>", "the federation file")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExit codes: 0 the file proves a fork (the double signers are printed); 1 it does not, or cannot be read (the reason on stderr); 2 usage error.")
    .action((file: string, options: { federation: string; json?: boolean }) => {
      const federation = parseFederation(readFileSync(options.federation, "utf8"));
      const proven = checkForkEvidenceFile(federation, readFileSync(file, "utf8"));
      print(options.json ? toJson(forkJson(proven)) : `valid fork evidence: ${describeFork(proven)}`);
    });
}

async function runAudit(options: AuditCommandOptions, addresses: string[]): Promise<number> {
  const federation = parseFederation(readFileSync(options.federation, "utf8"));
  const folder = await StateFolder.open(options.state, federation);
  const auditor = new Auditor(
    { federation, addresses, full: options.full === true, samples: options.samples, evidenceFolder: options.evidenceDir ?? options.state, deadlineMs: options.timeout },
    systemEnvironment(options.progress),
  );
  let stopping = false;
  let wake: () => void = () => undefined;
  const stop = (): void => {
    stopping = true;
    wake();
  };
  // With --follow, an interrupt ends the audit after the round under way; without it, at once, as usual.
  if (options.follow === true) {
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
  try {
    for (;;) {
      const report = await auditor.round(folder);
      printReport(report, options);
      const verdict = verdictOf(report);
      if (options.follow !== true || stopping || verdict === "fork" || verdict === "failed") return VERDICT_EXIT_CODES[verdict];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.interval * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopping) return VERDICT_EXIT_CODES[verdict];
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await auditor.close();
    await folder.close();
  }
}

function printReport(report: AuditReport, options: AuditCommandOptions): void {
  if (!options.json) return void process.stdout.write(formatAuditReport(report));
  const json = toJson(auditReportJson(report));
  print(options.follow ? JSON.stringify(JSON.parse(json)) : json);
}

function systemEnvironment(progress: boolean): AuditEnvironment {
  const seed = new Uint32Array(randomBytes(8).buffer);
  let lastProgressMs = Date.now();
  return {
    now: () => new Date(),
    randomBelow: (bound) => (bound < 2n ** 48n ? BigInt(randomInt(Number(bound))) : randomBytes(16).readBigUInt64BE() % bound),
    hashSeed: [seed[0]!, seed[1]!],
    onProgress: progress ? (state: ReplayProgress) => {
      if (Date.now() - lastProgressMs < PROGRESS_INTERVAL_MS && state.done < state.total) return;
      lastProgressMs = Date.now();
      const percent = state.total === 0n ? 100 : Number((state.done * 100n) / state.total);
      const rate = state.seconds > 0 ? Math.round(Number(state.done) / state.seconds).toLocaleString("en-US") : "-";
      process.stderr.write(`replay: ${state.done.toLocaleString("en-US")} of ${state.total.toLocaleString("en-US")} entries (${percent}%), ${rate} entries/s\n`);
    } : undefined,
  };
}

function forkJson(proven: ProvenFork): object {
  const side = (observed: ProvenFork["first"]): object => ({
    size: observed.verified.checkpoint.size,
    root: observed.verified.checkpoint.root,
    signers: observed.verified.signers,
    source: observed.source,
    observedAt: observed.observedAt,
  });
  return { valid: true, conflict: proven.kind, doubleSigners: proven.doubleSigners, first: side(proven.first), second: side(proven.second), secondRootAtFirstSize: proven.secondRootAtFirstSize };
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0) || seconds > 86_400) throw new InvalidArgumentError(`expected a number of seconds above 0 and at most 86400, got ${JSON.stringify(value)}`);
  return seconds;
}
