/**
 * Benchmark of the replica alone (issue: the replica), medians of several runs, for n = 4 and 7:
 * real replicas with real Ed25519 signatures in the whole-cluster simulator, on a network and
 * disks without faults, so that only the replicas' own work costs CPU: statement admission and
 * signature checks, gossip, consensus messages, batch building and valid(v), commits.
 *
 * All n replicas run in this one process, so the CPU time measured is the whole federation's. A
 * member's node runs one replica on its own machine; statements committed per CPU-second of one
 * replica is therefore n x (committed / CPU seconds). The baseline, measured in the same process,
 * is the Ed25519 verification rate on one core: each replica checks each statement it did not sign.
 * Statements are signed before the clock starts (signing is the submitting clients' work).
 *
 * Usage: npm run bench:replica -- [--runs N] [--statements S] [--validators 4,7]
 */
import type { BatchEntry } from "../src/batch";
import { Cluster } from "../test/sim/cluster";
import { runUntil } from "../test/sim/runLoop";
import { ed25519RatesPerCore, formatRate, median, signedAdds } from "./benchSupport";

interface Options {
  runs: number;
  statements: number;
  validators: number[];
}

const USAGE = "usage: npm run bench:replica -- [--runs N] [--statements S] [--validators 4,7]";

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { runs: 3, statements: 20_000, validators: [4, 7] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const number = (): number => {
      const value = Number(argv[++i]);
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} needs a positive whole number\n${USAGE}`);
      return value;
    };
    if (flag === "--runs") options.runs = number();
    else if (flag === "--statements") options.statements = number();
    else if (flag === "--validators") options.validators = (argv[++i] ?? "").split(",").map(Number);
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return options;
}

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

interface RunFigures {
  readonly committedPerClusterCpuSecond: number;
  readonly virtualSeconds: number;
  readonly heights: number;
}

/**
 * One run: the statements, signed by every member in turn, are submitted at their own members'
 * replicas in chunks of 250 every 20 virtual ms; the run ends when every replica has committed all.
 */
async function run(validators: number, statements: number, seed: number): Promise<RunFigures> {
  const cluster = new Cluster({
    seed,
    validators,
    faults: { delayMinMs: 1, delayMeanMs: 2, delayMaxMs: 5, dropRate: 0, duplicateRate: 0 },
    diskWriteDelayMs: 1,
    parameters: { mempoolPerSubmitterMax: statements, mempoolStatementsMax: statements },
  });
  const perNode = Math.ceil(statements / validators);
  const entries = cluster.nodes.map((node, i) => signedAdds(cluster.federation, node.key, Math.min(perNode, statements - i * perNode)));
  const chunk = 250;
  for (const [i, node] of cluster.nodes.entries()) {
    cluster.startAt(0, node);
    for (let from = 0; from < entries[i]!.length; from += chunk) {
      const part: BatchEntry[] = entries[i]!.slice(from, from + chunk);
      cluster.queue.schedule(100 + (from / chunk) * 20, "submit", () => void cluster.replicaOf(node)?.submit(part), "workload");
    }
  }
  const allCommitted = (): boolean =>
    cluster.failures.length > 0 ||
    (cluster.liveReplicas().length === validators && cluster.liveReplicas().every((replica) => Number(replica.ledger.treeSize) === statements));
  const start = process.cpuUsage();
  const result = await runUntil(cluster.queue, allCommitted, 3_600_000);
  const cpu = cpuSeconds(start);
  cluster.close();
  if (cluster.failures.length > 0) throw new Error(`a replica failed: ${cluster.failures[0]!.error}`);
  if (result.reason !== "condition") throw new Error(`the run stopped before every statement was committed: ${result.reason}`);
  return {
    committedPerClusterCpuSecond: statements / cpu,
    virtualSeconds: result.nowMs / 1000,
    heights: Number(cluster.liveReplicas()[0]?.ledger.head.height ?? 0n),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const verifyRate = ed25519RatesPerCore().verifyPerSecond;
  console.log(`baseline: Ed25519 verifications per CPU-second, one core: ${formatRate(verifyRate)}`);
  for (const validators of options.validators) {
    const runs: RunFigures[] = [];
    for (let i = 0; i < options.runs; i++) {
      runs.push(await run(validators, options.statements, i + 1));
      const last = runs[runs.length - 1]!;
      console.log(
        `  n=${validators} run ${i + 1}/${options.runs}: ${formatRate(last.committedPerClusterCpuSecond)} statements per CPU-second of the whole federation, ` +
          `${last.heights} heights in ${last.virtualSeconds.toFixed(1)} virtual s`,
      );
    }
    const cluster = median(runs.map((figures) => figures.committedPerClusterCpuSecond));
    const perReplica = cluster * validators;
    console.log(
      `n=${validators}: ${formatRate(perReplica)} statements committed per CPU-second of one replica ` +
        `(${formatRate(cluster)} per CPU-second of all ${validators}; ${(perReplica / verifyRate).toFixed(2)}x the one-core verification rate), ` +
        `median of ${options.runs} runs of ${formatRate(options.statements)} statements`,
    );
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
