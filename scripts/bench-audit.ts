/**
 * Benchmark of the auditor (issue: the auditor): `hashfed audit --full` replaying a 1 M-entry log
 * from a node on loopback, every root recomputed and every statement signature, submitter and rule
 * checked, with signature checks on worker threads. Medians of several runs; each run is a fresh
 * auditor (a new state folder) against the same node. The node, the auditor and its workers share
 * this machine's two cores, and so does whatever else runs on it: besides the rate, the CPU time
 * the auditor and the node spend per entry is measured, which gives the rate two otherwise idle
 * cores would allow. The baseline, measured in this process, is this machine's Ed25519
 * verification rate on one core: a replay cannot beat the number of cores times that rate.
 *
 * Usage: npm run bench:audit -- [--entries N] [--runs N] [--fixture DIR] [--rebuild]
 * The fixture is bench:log's (one validator, built once through the commit path, reused).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, type NodeProcess, startNodeProcess } from "../test/support/cluster";
import { ed25519RatesPerCore, ensureLogFixture, formatRate, median, seconds, parseFixtureOptions } from "./benchSupport";


interface AuditRun {
  /** Entries replayed per second of the replay itself, as the auditor reports it. */
  readonly replayRate: number;
  /** Entries per second of the whole command, process start to exit. */
  readonly commandRate: number;
  /** CPU seconds of the auditor process over the replay (main thread and workers). */
  readonly auditorCpuSeconds: number;
  /** CPU seconds the node spent over the whole command, serving entries and proofs. */
  readonly nodeCpuSeconds: number;
  readonly entries: number;
}

// USER_HZ, in which /proc reports CPU time: 100 on Linux.
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in seconds, from /proc. */
function cpuSeconds(node: NodeProcess): number {
  const fields = readFileSync(`/proc/${node.child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Runs `hashfed audit --full --json` as its own process, as an auditor would. */
function runAudit(federationFile: string, address: string, state: string, node: NodeProcess): Promise<AuditRun> {
  const start = process.hrtime.bigint();
  const nodeCpuStart = cpuSeconds(node);
  const args = [CLI, "audit", "--full", "--json", "--no-progress", "--federation", federationFile, "--node", address, "--state", state];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      const wall = seconds(start);
      if (code !== 0) return reject(new Error(`hashfed audit exited with ${code}:\n${stdout}\n${stderr}`));
      try {
        const { replay } = JSON.parse(stdout) as { replay: { from: number; to: number; seconds: number; cpuSeconds: number } };
        const entries = replay.to - replay.from;
        resolve({ replayRate: entries / replay.seconds, commandRate: entries / wall, auditorCpuSeconds: replay.cpuSeconds, nodeCpuSeconds: cpuSeconds(node) - nodeCpuStart, entries });
      } catch (error) {
        reject(new Error(`hashfed audit printed no replay report (${(error as Error).message}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const options = parseFixtureOptions(process.argv.slice(2), 3);
  console.log("baseline: Ed25519 on one core (node:crypto)");
  const baseline = ed25519RatesPerCore();
  const cores = availableParallelism();
  console.log(`  verify ${formatRate(baseline.verifyPerSecond)}/s; ${cores} cores: at most ${formatRate(cores * baseline.verifyPerSecond)} signatures/s with nothing else running`);

  console.log(`fixture: ${options.entries.toLocaleString("en-US")} entries in ${options.fixture}`);
  const fixture = await ensureLogFixture(options.fixture, options.entries, options.rebuild);
  const node = await startNodeProcess(fixture);
  const runs: AuditRun[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      const state = await mkdtemp(join(tmpdir(), "hashfed-bench-audit-"));
      try {
        runs.push(await runAudit(fixture.federationFile, fixture.publicAddress, state, node));
      } finally {
        await rm(state, { recursive: true, force: true });
      }
      const last = runs[runs.length - 1]!;
      console.log(`  run ${run + 1}: replay ${formatRate(last.replayRate)} entries/s, command ${formatRate(last.commandRate)} entries/s, CPU: auditor ${last.auditorCpuSeconds.toFixed(1)} s, node ${last.nodeCpuSeconds.toFixed(1)} s`);
    }
  } finally {
    await node.kill("SIGTERM");
  }

  const replayRate = median(runs.map((run) => run.replayRate));
  const commandRate = median(runs.map((run) => run.commandRate));
  const auditorMicroseconds = median(runs.map((run) => (run.auditorCpuSeconds / run.entries) * 1e6));
  const nodeMicroseconds = median(runs.map((run) => (run.nodeCpuSeconds / run.entries) * 1e6));
  const idleBound = (cores * 1e6) / (auditorMicroseconds + nodeMicroseconds);
  const entries = options.entries.toLocaleString("en-US");
  console.log("\nresults (medians):");
  console.log(`  audit --full, ${entries} entries, replay          ${formatRate(replayRate)} entries/s  ${(replayRate / baseline.verifyPerSecond).toFixed(2)} x one-core verify rate`);
  console.log(`  audit --full, ${entries} entries, whole command   ${formatRate(commandRate)} entries/s`);
  console.log(`  CPU per entry: auditor ${auditorMicroseconds.toFixed(0)} µs (verification alone ${(1e6 / baseline.verifyPerSecond).toFixed(0)} µs), node ${nodeMicroseconds.toFixed(0)} µs`);
  console.log(`  rate those allow on ${cores} otherwise idle cores: ${formatRate(idleBound)} entries/s`);
  console.log(JSON.stringify({ baseline, cores, runs }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
