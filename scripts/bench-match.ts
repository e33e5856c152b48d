/**
 * Benchmark of PDQ matching (issue: PDQ multi-index hashing), medians of several runs, for each list
 * size: the multi-index (PdqMultiIndex, what a node's match index uses) and the brute-force scan
 * (PdqScanIndex) side by side, in process, on the same hashes and queries:
 *   1. queries per second on one thread at distance --distance (default 31, the federation default),
 *      and p50/p99 latency per query;
 *   2. build time (adding every hash, then indexing) and the memory the index holds: its typed
 *      arrays, and the growth of the process's resident set;
 *   3. agreement: each query's result set from both, which must be identical (0 differing);
 *   4. for the multi-index, a merge of a seventh more hashes into its largest level, slice by slice
 *      as a node does it (PdqMultiIndex.indexSlice): how long each slice holds the thread.
 * The list is uniform random hashes, 1% of them near-duplicates of others; queries are half planted
 * near-duplicates of listed hashes (distances spread over 0..distance) and half random misses. The
 * scan is sampled with at most --scan-queries queries per run.
 * Then end to end through gRPC (matchThroughGrpc.ts): a node serving a log of --grpc-entries
 * entries (a third PDQ; the fixture is kept in --grpc-fixture), Match calls of 1,000 queries.
 *
 * Usage: npm run bench:match -- [--sizes 1000000,10000000] [--queries N] [--scan-queries N] [--runs N] [--distance D]
 *                               [--grpc-entries N] [--grpc-fixture DIR] [--no-grpc] [--no-index]
 */
import { randomBytes, randomInt } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { IndexHit } from "../src/index";
import { PdqMultiIndex, PdqScanIndex } from "../src/index";
import { formatRate, median, seconds } from "./benchSupport";
import { matchThroughGrpc } from "./matchThroughGrpc";

interface Options {
  sizes: number[];
  queries: number;
  scanQueries: number;
  runs: number;
  distance: number;
  index: boolean;
  grpc: boolean;
  grpcEntries: number;
  grpcFixture: string;
}

const USAGE =
  "usage: npm run bench:match -- [--sizes 1000000,10000000] [--queries N] [--scan-queries N] [--runs N] [--distance D] [--grpc-entries N] [--grpc-fixture DIR] [--no-grpc] [--no-index]";

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    sizes: [1_000_000, 10_000_000],
    queries: 20_000,
    scanQueries: 100,
    runs: 5,
    distance: 31,
    index: true,
    grpc: true,
    grpcEntries: 300_000,
    grpcFixture: "/tmp/hashfed-bench-match-grpc",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const whole = (text: string | undefined): number => {
      const value = Number(text);
      if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} needs positive whole numbers, got ${text}\n${USAGE}`);
      return value;
    };
    if (flag === "--sizes") options.sizes = (argv[++i] ?? "").split(",").map(whole);
    else if (flag === "--queries") options.queries = whole(argv[++i]);
    else if (flag === "--scan-queries") options.scanQueries = whole(argv[++i]);
    else if (flag === "--runs") options.runs = whole(argv[++i]);
    else if (flag === "--distance") options.distance = whole(argv[++i]);
    else if (flag === "--grpc-entries") options.grpcEntries = whole(argv[++i]);
    else if (flag === "--grpc-fixture") options.grpcFixture = argv[++i] ?? "";
    else if (flag === "--no-grpc") options.grpc = false;
    else if (flag === "--no-index") options.index = false;
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return options;
}

/** A full collection before each memory reading, so that garbage does not count as the index's. */
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const NEAR_DUPLICATES_PER_100 = 1;

/** `size` random hashes end to end, NEAR_DUPLICATES_PER_100 % of them within `distance` of an earlier one. */
function listHashes(size: number, distance: number): Buffer {
  const hashes = randomBytes(size * 32);
  for (let i = 1; i < size; i++) {
    if (randomInt(100) >= NEAR_DUPLICATES_PER_100) continue;
    const source = randomInt(i);
    hashes.copy(hashes, i * 32, source * 32, source * 32 + 32);
    flipRandomBits(hashes.subarray(i * 32, i * 32 + 32), 1 + randomInt(distance));
  }
  return hashes;
}

function flipRandomBits(hash: Buffer, count: number): void {
  const flipped = new Set<number>();
  while (flipped.size < count) flipped.add(randomInt(256));
  for (const bit of flipped) hash[bit >> 3]! ^= 1 << (bit & 7);
}

/** Half near-duplicates of listed hashes at distances 0..distance, half random. */
function makeQueries(hashes: Buffer, count: number, distance: number): Buffer[] {
  const size = hashes.length / 32;
  return Array.from({ length: count }, (_, i) => {
    if (i % 2 === 1) return randomBytes(32);
    const query = Buffer.from(hashes.subarray(randomInt(size) * 32).subarray(0, 32));
    flipRandomBits(query, randomInt(distance + 1));
    return query;
  });
}

interface Memory {
  arrayBytes: number;
  residentBytes: number;
}

function memoryNow(): Memory {
  collectGarbage();
  const usage = process.memoryUsage();
  return { arrayBytes: usage.arrayBuffers, residentBytes: usage.rss };
}

interface Searcher {
  add(value: Uint8Array, logIndex: number): void;
  search(query: Uint8Array, distanceMax: number): IndexHit[];
}

interface IndexFigures {
  buildSeconds: number;
  memory: Memory;
  queriesPerSecond: number[];
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Result sets of the agreement queries, as text, to compare with the other index's. */
  agreement: string[];
}

/**
 * Builds `index` from `hashes` (through `prepare`, which indexes what was added), then runs `runs`
 * rounds of `queries` at `distance`, timing each query; the first `agreementQueries` queries'
 * results are kept for the comparison.
 */
function measure(index: Searcher, prepare: () => void, hashes: Buffer, queries: readonly Buffer[], options: Options, agreementQueries: number): IndexFigures {
  const before = memoryNow();
  const buildStart = process.hrtime.bigint();
  for (let i = 0; i < hashes.length / 32; i++) index.add(hashes.subarray(i * 32, i * 32 + 32), i);
  prepare();
  const buildSeconds = seconds(buildStart);
  const after = memoryNow();
  const queriesPerSecond: number[] = [];
  const latenciesNs: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    const runStart = process.hrtime.bigint();
    for (const query of queries) {
      const start = process.hrtime.bigint();
      index.search(query, options.distance);
      latenciesNs.push(Number(process.hrtime.bigint() - start));
    }
    queriesPerSecond.push(queries.length / seconds(runStart));
  }
  latenciesNs.sort((a, b) => a - b);
  const agreement = queries.slice(0, agreementQueries).map((query) => JSON.stringify(index.search(query, options.distance)));
  return {
    buildSeconds,
    memory: { arrayBytes: after.arrayBytes - before.arrayBytes, residentBytes: after.residentBytes - before.residentBytes },
    queriesPerSecond,
    latencyP50Ms: latenciesNs[Math.floor(latenciesNs.length * 0.5)]! / 1e6,
    latencyP99Ms: latenciesNs[Math.floor(latenciesNs.length * 0.99)]! / 1e6,
    agreement,
  };
}

/** A merge done as a node does it, a slice at a time (PdqMultiIndex.indexSlice), and how long each slice held the thread. */
interface SlicedMerge {
  added: number;
  seconds: number;
  slices: number;
  sliceP50Ms: number;
  sliceMaxMs: number;
}

/**
 * Adds a seventh more random hashes to a fully indexed `index`, enough that the next build merges
 * them with its largest level, and runs that build slice by slice, timing each slice.
 */
function measureSlicedMerge(index: PdqMultiIndex, size: number): SlicedMerge {
  const added = Math.ceil(size / 7);
  const hashes = randomBytes(added * 32);
  for (let i = 0; i < added; i++) index.add(hashes.subarray(i * 32, i * 32 + 32), size + i);
  const slicesNs: number[] = [];
  const start = process.hrtime.bigint();
  for (let more = true; more; ) {
    const sliceStart = process.hrtime.bigint();
    more = index.indexSlice();
    slicesNs.push(Number(process.hrtime.bigint() - sliceStart));
  }
  const totalSeconds = seconds(start);
  slicesNs.sort((a, b) => a - b);
  return { added, seconds: totalSeconds, slices: slicesNs.length, sliceP50Ms: slicesNs[slicesNs.length >> 1]! / 1e6, sliceMaxMs: slicesNs[slicesNs.length - 1]! / 1e6 };
}

interface SizeFigures {
  size: number;
  merge: SlicedMerge;
  multi: IndexFigures;
  scan: IndexFigures;
  multiBytes: number;
  comparedQueries: number;
  differingResultSets: number;
  hitsMulti: number;
  hitsScan: number;
}

function benchSize(size: number, options: Options): SizeFigures {
  console.log(`${size.toLocaleString("en-US")} hashes: generating`);
  const hashes = listHashes(size, options.distance);
  const queries = makeQueries(hashes, options.queries, options.distance);
  const comparedQueries = Math.min(options.queries, options.scanQueries);
  console.log(`  multi-index: build, then ${options.runs} runs of ${queries.length.toLocaleString("en-US")} queries`);
  const multiIndex = new PdqMultiIndex();
  const multi = measure(multiIndex, () => multiIndex.indexPending(), hashes, queries, options, comparedQueries);
  const multiBytes = multiIndex.byteLength;
  const agreementMulti = multi.agreement;
  console.log("  multi-index: a merge in slices, as a node does after commits");
  const merge = measureSlicedMerge(multiIndex, size);
  console.log(`  scan: build, then ${options.runs} runs of ${comparedQueries.toLocaleString("en-US")} queries`);
  const scan = measure(new PdqScanIndex(), () => undefined, hashes, queries.slice(0, comparedQueries), options, comparedQueries);
  const differingResultSets = agreementMulti.filter((result, i) => result !== scan.agreement[i]).length;
  const hitCount = (results: string[]): number => results.reduce((total, result) => total + (JSON.parse(result) as unknown[]).length, 0);
  return { size, merge, multi, scan, multiBytes, comparedQueries, differingResultSets, hitsMulti: hitCount(multi.agreement), hitsScan: hitCount(scan.agreement) };
}

function printSize(figures: SizeFigures, options: Options): void {
  const { multi, scan } = figures;
  const mib = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MiB`;
  const rows: [string, string, string][] = [
    [`queries/s at d=${options.distance}, one thread`, formatRate(median(multi.queriesPerSecond)), formatRate(median(scan.queriesPerSecond))],
    ["latency per query p50", `${multi.latencyP50Ms.toFixed(3)} ms`, `${scan.latencyP50Ms.toFixed(3)} ms`],
    ["latency per query p99", `${multi.latencyP99Ms.toFixed(3)} ms`, `${scan.latencyP99Ms.toFixed(3)} ms`],
    ["build (add all, index)", `${multi.buildSeconds.toFixed(2)} s`, `${scan.buildSeconds.toFixed(2)} s`],
    ["memory: ArrayBuffers growth (not WebAssembly)", mib(multi.memory.arrayBytes), mib(scan.memory.arrayBytes)],
    ["memory: resident set growth", mib(multi.memory.residentBytes), mib(scan.memory.residentBytes)],
  ];
  console.log(`\n${figures.size.toLocaleString("en-US")} hashes (medians of ${options.runs} runs; the scan on ${figures.comparedQueries} queries):`);
  console.log(`  ${"".padEnd(44)} ${"multi-index".padStart(14)} ${"scan".padStart(14)}`);
  for (const [what, multiValue, scanValue] of rows) console.log(`  ${what.padEnd(44)} ${multiValue.padStart(14)} ${scanValue.padStart(14)}`);
  console.log(`  multi-index arrays by their own count: ${mib(figures.multiBytes)}`);
  const { merge } = figures;
  console.log(
    `  a merge of ${merge.added.toLocaleString("en-US")} more hashes into the largest level, in slices: ${merge.seconds.toFixed(2)} s of work in ` +
      `${merge.slices} slices, each holding the thread p50 ${merge.sliceP50Ms.toFixed(1)} ms, at most ${merge.sliceMaxMs.toFixed(1)} ms`,
  );
  console.log(
    `  agreement on ${figures.comparedQueries} queries: ${figures.differingResultSets} result sets differ; ` +
      `hits ${figures.hitsMulti} (multi-index) and ${figures.hitsScan} (scan)`,
  );
}

/** The goals that apply to a size, each with whether it is met. */
function goals(figures: SizeFigures): [string, boolean][] {
  const rate = median(figures.multi.queriesPerSecond);
  const residentMax = Math.max(figures.multi.memory.arrayBytes, figures.multi.memory.residentBytes, figures.multiBytes);
  const met: [string, boolean][] = [[`${figures.size.toLocaleString("en-US")}: identical results (0 differing)`, figures.differingResultSets === 0]];
  if (figures.size === 1_000_000) {
    met.push(["1 M: >= 20,000 queries/s", rate >= 20_000], ["1 M: build <= 5 s", figures.multi.buildSeconds <= 5]);
  }
  if (figures.size === 10_000_000) {
    met.push(["10 M: >= 5,000 queries/s", rate >= 5_000], ["10 M: index under 1 GiB resident", residentMax < GIB]);
  }
  return met;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const results: SizeFigures[] = [];
  for (const size of options.index ? options.sizes : []) {
    const figures = benchSize(size, options);
    printSize(figures, options);
    results.push(figures);
  }
  console.log("\ngoals:");
  for (const [goal, met] of results.flatMap(goals)) console.log(`  ${met ? "met    " : "NOT MET"} ${goal}`);
  console.log(JSON.stringify(results.map(({ multi, scan, ...rest }) => ({ ...rest, multi: { ...multi, agreement: undefined }, scan: { ...scan, agreement: undefined } }))));
  if (!options.grpc) return;
  const grpc = await matchThroughGrpc({ fixture: options.grpcFixture, entries: options.grpcEntries, batch: 1000, inFlight: 2, seconds: 5, runs: Math.min(options.runs, 3) });
  console.log(`\nthrough gRPC, one node holding ${grpc.pdqHashes.toLocaleString("en-US")} PDQ hashes, calls of 1,000 PDQ queries at d=31, 2 in flight (median of ${Math.min(options.runs, 3)} runs of 5 s):`);
  console.log(`  ${formatRate(grpc.hashesPerSecond)} hashes/s; a call p50 ${grpc.callP50Ms.toFixed(1)} ms, p99 ${grpc.callP99Ms.toFixed(1)} ms; planted near-duplicates found ${grpc.plantedFound} of ${grpc.plantedSent}`);
  console.log(`  ${grpc.hashesPerSecond >= 20_000 ? "met    " : "NOT MET"} through gRPC: >= 20,000 hashes/s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
