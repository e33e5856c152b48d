/**
 * Benchmarks of a federation on loopback (issue: federation over gRPC), medians of several runs,
 * for 4 and 7 validators, each a real `hashfed node` process on this machine:
 *   1. sustained committed statements per second, with clients submitting at every member;
 *   2. submit-to-matchable-at-every-node latency, p50 and p99, at 200 statements per second;
 *   3. throughput as a share of the machine's Ed25519 verification bound: every node but the
 *      submitter checks every statement's signature once, so the machine can commit at most
 *      cores x (verifications per second per core) / (n - 1) statements per second. This
 *      machine's speed moves by up to half within minutes, so the rate is taken against the
 *      verification rate measured just before each run, and the median of those shares is given.
 *
 * Each measurement runs its load for `--warmup` seconds first and does not count them: the nodes
 * are fresh processes, and under these loads V8 goes on compiling their hot code for about half a
 * minute, which a node that has run for a while has long done.
 *
 * Usage: npm run bench:federation -- [--runs N] [--seconds S] [--warmup S] [--validators 4,7] [--only throughput|latency]
 */
import { cpus } from "node:os";
import { rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { call, connectLog, connectMember } from "../src/client/rpc";
import type { EntryView, StatusResponse } from "../src/gen/hashfed/v1/member";
import { localFederation, type NodeProcess, type SoloSetup, startNodeProcess } from "../test/support/cluster";
import { ed25519RatesPerCore, formatRate, median, seconds, sha256Addition } from "./benchSupport";

type Measurement = "throughput" | "latency";

interface Options {
  runs: number;
  seconds: number;
  warmupSeconds: number;
  validators: number[];
  measurements: Measurement[];
}

/** The value of `flag`: a whole number of at least `min`. */
function wholeNumber(flag: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value) || value < min) throw new Error(`${flag} takes a whole number of at least ${min}, got ${text}`);
  return value;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { runs: 3, seconds: 10, warmupSeconds: 30, validators: [4, 7], measurements: ["throughput", "latency"] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--runs") options.runs = wholeNumber(flag, argv[++i], 1);
    else if (flag === "--seconds") options.seconds = wholeNumber(flag, argv[++i], 1);
    else if (flag === "--warmup") options.warmupSeconds = wholeNumber(flag, argv[++i], 0);
    else if (flag === "--validators") options.validators = (argv[++i] ?? "").split(",").map((text) => wholeNumber(flag, text, 2));
    else if (flag === "--only") {
      const only = argv[++i];
      if (only !== "throughput" && only !== "latency") throw new Error(`--only takes throughput or latency, got ${only}`);
      options.measurements = [only];
    } else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

/** CPU time (user + system) a process has used, in ms, from /proc: where the nodes' time goes. */
function cpuMs(node: NodeProcess): number {
  const fields = readFileSync(`/proc/${node.child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}
// USER_HZ, in which /proc reports CPU time: 100 on Linux.
const CLOCK_TICKS_PER_SECOND = 100;

/** How many of the heights from `fromHeight` to `toHeight` needed more than one round. */
async function laterRoundsAmong(member: SoloSetup, fromHeight: bigint, toHeight: bigint): Promise<number> {
  const log = connectLog(member.publicAddress);
  let laterRounds = 0;
  for (let height = fromHeight; height <= toHeight; height++) {
    const batch = await call(log, log.client.getBatch, { height });
    if ((batch.certificate?.round ?? 0) > 0) laterRounds++;
  }
  log.client.close();
  return laterRounds;
}

/**
 * A federation of `validators` on loopback with the default parameters, as a federation file that
 * sets none would have. Batches of 2,000 entries (twice the default) were tried: at 7 validators
 * on two cores a proposal then reached the others 0.6-1.2 s after the height started, around the
 * 1 s propose timeout, and rounds were lost.
 */
async function withFederation<T>(validators: number, work: (members: SoloSetup[], nodes: readonly NodeProcess[]) => Promise<T>): Promise<T> {
  const names = Array.from({ length: validators }, (_, i) => `member${i}.example`);
  const members = await localFederation(names);
  const nodes: NodeProcess[] = await Promise.all(members.map((member) => startNodeProcess(member)));
  try {
    return await work(members, nodes);
  } finally {
    await Promise.all(nodes.map((node) => node.kill("SIGTERM")));
    await rm(members[0]!.folder, { recursive: true, force: true });
  }
}

/**
 * Clients at every member submit requests of 500 statements, 2 in flight each, for `warmupS` and
 * then `durationS`: the rate is the log's growth over the second span, measured under load. Also
 * prints the nodes' CPU per committed statement and the heights that took more than a round.
 */
async function throughput(members: SoloSetup[], nodes: readonly NodeProcess[], durationS: number, warmupS: number): Promise<number> {
  const clients = members.map((member) => connectMember(member.memberAddress));
  const status = (): Promise<StatusResponse> => call(clients[0]!, clients[0]!.client.status, {});
  let measuring = false;
  let stopped = false;
  let failedRequests = 0;
  const worker = async (client: (typeof clients)[number]): Promise<void> => {
    while (!stopped) {
      await call(client, client.client.submit, { submissions: Array.from({ length: 500 }, sha256Addition) }).catch(() => {
        if (measuring) failedRequests++;
      });
    }
  };
  const load = Promise.all(clients.flatMap((client) => [worker(client), worker(client)]));
  await sleep(warmupS * 1000);
  const start = process.hrtime.bigint();
  const startCpu = nodes.map(cpuMs);
  measuring = true;
  const first = await status();
  await sleep(durationS * 1000);
  const elapsed = seconds(start);
  const nodesCpuMs = nodes.reduce((sum, node, i) => sum + cpuMs(node) - startCpu[i]!, 0);
  const last = await status();
  measuring = false;
  stopped = true;
  await load;
  const committed = Number(last.treeSize - first.treeSize);
  const rate = committed / elapsed;
  const laterRounds = await laterRoundsAmong(members[0]!, first.height + 1n, last.height);
  console.log(
    `    nodes used ${(nodesCpuMs / 1000 / elapsed).toFixed(2)} cores, ${((1000 * nodesCpuMs) / Math.max(1, committed)).toFixed(0)} µs of CPU per committed statement (all nodes); ` +
      `${last.height - first.height} heights, ${laterRounds} decided after round 0`,
  );
  // Refused requests (a full mempool pushing back) are not committed, so they lower the rate; shown so a reader knows.
  if (failedRequests > 0) console.log(`    ${failedRequests} requests of 500 refused or failed while measured`);
  for (const client of clients) client.client.close();
  return rate;
}

/**
 * One statement every 5 ms at the first member, for `warmupS` unmeasured, then for `durationS`: the
 * time until every member's Follow stream shows it.
 */
async function latency(members: SoloSetup[], durationS: number, warmupS: number): Promise<{ p50: number; p99: number }> {
  const submitter = connectMember(members[0]!.memberAddress);
  await call(submitter, submitter.client.submit, { submissions: [sha256Addition()] });
  const from = (await call(submitter, submitter.client.status, {})).treeSize;
  const seen = new Map<string, number[]>();
  const sentAt = new Map<string, number>();
  const followErrors: string[] = [];
  const followers = members.map((member) => {
    const client = connectMember(member.memberAddress);
    const stream = client.client.follow({ fromIndex: from }, client.metadata);
    stream.on("data", (view: EntryView) => {
      const id = view.statementId.toString("hex");
      const times = seen.get(id) ?? [];
      times.push(performance.now());
      seen.set(id, times);
    });
    stream.on("error", (error: Error) => {
      if (!/cancel/i.test(error.message)) followErrors.push(`${member.key.name}: ${error.message}`);
    });
    return { client, stream };
  });
  // One paced stream of submissions: the first `warmupS` seconds' are not recorded.
  const pending: Promise<unknown>[] = [];
  const start = performance.now();
  const warmupCount = warmupS * 200;
  for (let i = 0; i < (warmupS + durationS) * 200; i++) {
    const due = start + i * 5;
    // Sleeps rather than spins: a spinning client would take a core from the nodes it measures.
    while (performance.now() < due) await sleep(Math.max(0, due - performance.now() - 1));
    const submitted = performance.now();
    const recorded = i >= warmupCount;
    pending.push(call(submitter, submitter.client.submit, { submissions: [sha256Addition()] }).then((response) => {
      if (recorded) sentAt.set(response.acknowledgements[0]!.statementId.toString("hex"), submitted);
    }));
  }
  await Promise.all(pending);
  const complete = (): boolean => [...sentAt.keys()].every((id) => (seen.get(id)?.length ?? 0) === members.length);
  for (let waited = 0; !complete() && waited < 10_000; waited += 20) await sleep(20);
  const missing = [...sentAt.keys()].filter((id) => (seen.get(id)?.length ?? 0) < members.length).length;
  // A statement not matchable everywhere after 10 s counts as infinitely late: it is in p99 if it is in the top 1 %.
  if (missing > 0) console.log(`    ${missing} of ${sentAt.size} statements not matchable at every node within 10 s`);
  // A Follow stream that failed sees nothing after: those statements count as missing, not as late.
  for (const error of followErrors) console.log(`    a Follow stream failed: ${error}`);
  const latencies = [...sentAt].map(([id, at]) => Math.max(...(seen.get(id) ?? [Infinity])) - at).sort((a, b) => a - b);
  for (const { client, stream } of followers) {
    stream.cancel();
    client.client.close();
  }
  submitter.client.close();
  return { p50: latencies[Math.floor(latencies.length * 0.5)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cores = cpus().length;
  console.log(`${cores} cores; the baseline, Ed25519 verification on one core, is measured before each run`);
  const rows: string[] = [];
  for (const validators of options.validators) {
    const rates: number[] = [];
    const shares: number[] = [];
    const baselines: number[] = [];
    const p50s: number[] = [];
    const p99s: number[] = [];
    const rateText = (rate: number): string =>
      `${formatRate(rate)} statements/s (${(100 * median(shares)).toFixed(0)}% of the verification bound, ` +
      `cores x ${formatRate(Math.min(...baselines))}-${formatRate(Math.max(...baselines))}/s / ${validators - 1})`;
    const latencyText = (p50: number, p99: number): string => `submit-to-matchable-everywhere at 200/s: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`;
    for (let run = 0; run < options.runs; run++) {
      const measured: string[] = [];
      if (options.measurements.includes("throughput")) {
        const perCore = ed25519RatesPerCore().verifyPerSecond;
        const bound = (cores * perCore) / (validators - 1);
        const rate = await withFederation(validators, (members, nodes) => throughput(members, nodes, options.seconds, options.warmupSeconds));
        rates.push(rate);
        shares.push(rate / bound);
        baselines.push(perCore);
        measured.push(`${formatRate(rate)} statements/s committed, ${((100 * rate) / bound).toFixed(0)}% of the bound ${formatRate(bound)}/s (verification ${formatRate(perCore)}/s a core just before)`);
      }
      if (options.measurements.includes("latency")) {
        const { p50, p99 } = await withFederation(validators, (members) => latency(members, options.seconds, options.warmupSeconds));
        p50s.push(p50);
        p99s.push(p99);
        measured.push(`latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
      }
      console.log(`  n=${validators} run ${run + 1}: ${measured.join("; ")}`);
    }
    const summary = [rates.length > 0 ? rateText(median(rates)) : undefined, p50s.length > 0 ? latencyText(median(p50s), median(p99s)) : undefined];
    rows.push(`  ${validators} validators: ${summary.filter((part) => part !== undefined).join("; ")}`);
  }
  console.log("\nresults (medians):");
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
