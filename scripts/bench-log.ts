/**
 * Benchmarks of one node's log (issue: a hashfed node), medians of several runs:
 *   1. statements appended per second through gRPC, signing, verification and synced writes included;
 *   2. inclusion proofs per second at 1 M entries, from the store and through gRPC;
 *   3. time from start to serving for a node holding 1 M entries.
 * The baseline, measured in the same process, is this machine's Ed25519 rate on one core.
 *
 * Usage: npm run bench:log -- [--entries N] [--runs N] [--fixture DIR] [--rebuild]
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { call, connectLog, connectMember } from "../src/client/rpc";
import type { Submission } from "../src/gen/hashfed/v1/member";
import { Ledger } from "../src/ledger/ledger";
import { LogStore } from "../src/store";
import { type SoloSetup, soloFederation, startNodeProcess } from "../test/support/cluster";
import { ed25519RatesPerCore, ensureLogFixture, formatRate, LARGE_BATCHES, median, seconds, sha256Addition, signedAdds, parseFixtureOptions } from "./benchSupport";


const REQUEST_SUBMISSIONS = 1000;
const REQUESTS_IN_FLIGHT = 4;

/** Submits `requests` through `submitOne` with REQUESTS_IN_FLIGHT in flight; returns statements per second. */
async function appendRate(count: number, makeRequest: (i: number) => Submission[], submitOne: (submissions: Submission[]) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < count / REQUEST_SUBMISSIONS) await submitOne(makeRequest(next++));
  };
  await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker));
  return count / seconds(start);
}

async function benchAppend(setup: SoloSetup, runs: number): Promise<{ nodeSigns: number[]; clientSigns: number[] }> {
  const node = await startNodeProcess(setup);
  const member = connectMember(setup.memberAddress);
  const submit = (submissions: Submission[]): Promise<unknown> => call(member, member.client.submit, { submissions });
  const count = 20_000;
  const nodeSigns: number[] = [];
  const clientSigns: number[] = [];
  for (let run = 0; run < runs; run++) {
    nodeSigns.push(await appendRate(count, () => Array.from({ length: REQUEST_SUBMISSIONS }, sha256Addition), submit));
    clientSigns.push(await appendRate(count, (i) => signedAdds(setup.federation, setup.key, REQUEST_SUBMISSIONS, i).map((entry) => ({
      kind: { $case: "signed", value: { entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal } },
    })), submit));
    console.log(`  run ${run + 1}: node signs ${formatRate(nodeSigns[run]!)}/s, client signs ${formatRate(clientSigns[run]!)}/s`);
  }
  member.client.close();
  await node.kill("SIGTERM");
  return { nodeSigns, clientSigns };
}

async function benchProofsInProcess(setup: SoloSetup, runs: number): Promise<{ rates: number[]; openSeconds: number }> {
  const openStart = process.hrtime.bigint();
  const store = await LogStore.open(join(setup.folder, "data", setup.key.name, "store"));
  const ledger = await Ledger.open(setup.federation, store);
  const openSeconds = seconds(openStart);
  const size = ledger.treeSize;
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    const count = 50_000;
    const start = process.hrtime.bigint();
    for (let done = 0; done < count; done += 256) {
      await Promise.all(Array.from({ length: 256 }, () => ledger.tree.inclusionProof(BigInt(Math.floor(Math.random() * Number(size))), size)));
    }
    rates.push(count / seconds(start));
  }
  await store.close();
  return { rates, openSeconds };
}

/** Calls per second of `call`, GRPC_IN_FLIGHT at a time. */
async function callRate(count: number, call: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next++ < count) await call();
  };
  await Promise.all(Array.from({ length: GRPC_IN_FLIGHT }, worker));
  return count / seconds(start);
}

const GRPC_IN_FLIGHT = 64;

async function benchStartAndGrpcProofs(setup: SoloSetup, runs: number): Promise<{ startSeconds: number[]; grpcRates: number[]; grpcBaselineRates: number[]; rssMiB: number }> {
  const startSeconds: number[] = [];
  const grpcRates: number[] = [];
  const grpcBaselineRates: number[] = [];
  let rssMiB = 0;
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    const node = await startNodeProcess(setup);
    startSeconds.push(seconds(start));
    const status = await readFile(`/proc/${node.child.pid}/status`, "utf8");
    rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    const log = connectLog(setup.publicAddress);
    const { treeSize: size } = await call(log, log.client.getInclusionProof, { index: 0n, treeSize: 0n });
    // The baseline: the same node's cheapest call, which measures grpc-js itself on this machine.
    grpcBaselineRates.push(await callRate(10_000, () => call(log, log.client.getCheckpoint, {})));
    grpcRates.push(await callRate(20_000, () => call(log, log.client.getInclusionProof, { index: BigInt(Math.floor(Math.random() * Number(size))), treeSize: size })));
    log.client.close();
    await node.kill("SIGTERM");
  }
  return { startSeconds, grpcRates, grpcBaselineRates, rssMiB };
}

async function main(): Promise<void> {
  const options = parseFixtureOptions(process.argv.slice(2), 5);
  console.log("baseline: Ed25519 on one core (node:crypto)");
  const baseline = ed25519RatesPerCore();
  console.log(`  sign ${formatRate(baseline.signPerSecond)}/s, verify ${formatRate(baseline.verifyPerSecond)}/s`);

  console.log(`append through gRPC: requests of ${REQUEST_SUBMISSIONS}, ${REQUESTS_IN_FLIGHT} in flight, 20,000 statements per run`);
  const appendSetup = await soloFederation("videohost.example", LARGE_BATCHES);
  const append = await benchAppend(appendSetup, options.runs);
  await rm(appendSetup.folder, { recursive: true, force: true });

  console.log(`fixture: ${options.entries.toLocaleString("en-US")} entries in ${options.fixture}`);
  const fixture = await ensureLogFixture(options.fixture, options.entries, options.rebuild);
  const proofs = await benchProofsInProcess(fixture, options.runs);
  const served = await benchStartAndGrpcProofs(fixture, Math.min(options.runs, 3));

  const nodeSigns = median(append.nodeSigns);
  const clientSigns = median(append.clientSigns);
  const rows = [
    ["append, node signs (sign + synced write)", `${formatRate(nodeSigns)} statements/s`, `${(nodeSigns / baseline.signPerSecond).toFixed(2)} x one-core sign rate`],
    ["append, client signs (client sign + node verify + synced write)", `${formatRate(clientSigns)} statements/s`, `${(clientSigns / baseline.verifyPerSecond).toFixed(2)} x one-core verify rate`],
    [`inclusion proofs at ${options.entries.toLocaleString("en-US")} entries, store`, `${formatRate(median(proofs.rates))} proofs/s`, ""],
    [`inclusion proofs at ${options.entries.toLocaleString("en-US")} entries, gRPC (one per call, ${GRPC_IN_FLIGHT} in flight)`, `${formatRate(median(served.grpcRates))} proofs/s`, `${(median(served.grpcRates) / median(served.grpcBaselineRates)).toFixed(2)} x GetCheckpoint calls/s (${formatRate(median(served.grpcBaselineRates))})`],
    [`start to serving, ${options.entries.toLocaleString("en-US")} entries`, `${median(served.startSeconds).toFixed(2)} s`, `node RSS ${served.rssMiB.toFixed(0)} MiB; in-process open ${proofs.openSeconds.toFixed(2)} s`],
  ];
  console.log("\nresults (medians):");
  for (const [what, value, note] of rows) console.log(`  ${what!.padEnd(70)} ${value!.padStart(22)}  ${note}`);
  console.log(JSON.stringify({ baseline, append, proofs, served }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
