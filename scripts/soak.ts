/**
 * A soak run of a federation on loopback: validators as real `hashfed node` processes under a steady
 * load of submissions at every member, one validator at a time stopped with SIGKILL and restarted on
 * its data a while later. At the end every node must serve one checkpoint and identical entries,
 * with every acknowledged statement at its acknowledged index. It prints the nodes' memory over the
 * run and, for each outage, how long the heights took: those the stopped validator was to propose
 * (decided in a later round) and the others. Long by design: a script, not a test.
 *
 * Usage: npm run soak -- [--minutes M] [--validators N] [--kill-every S] [--down S] [--per-request K]
 * Exits 0 when every check held, 1 otherwise.
 */
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { BatchHeader } from "../src/gen/hashfed/v1/batch";
import { localFederation, type NodeProcess, startNodeProcess } from "../test/support/cluster";
import { describeNodes, entryHex, Load, missingAcknowledged, NodeClients, readLogs, rootOf, unary, waitForAgreement } from "../test/support/federationNet";
import { median } from "./benchSupport";

interface Options {
  minutes: number;
  validators: number;
  killEverySeconds: number;
  downSeconds: number;
  perRequest: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { minutes: 5, validators: 4, killEverySeconds: 90, downSeconds: 15, perRequest: 5 };
  const flags: Record<string, keyof Options> = { "--minutes": "minutes", "--validators": "validators", "--kill-every": "killEverySeconds", "--down": "downSeconds", "--per-request": "perRequest" };
  for (let i = 0; i < argv.length; i++) {
    const key = flags[argv[i]!];
    const value = Number(argv[++i]);
    if (key === undefined) throw new Error(`unknown option ${argv[i - 1]}; options: ${Object.keys(flags).join(", ")}`);
    if (!(value > 0)) throw new Error(`${argv[i - 1]} takes a positive number, got ${argv[i]}`);
    options[key] = value;
  }
  if (options.downSeconds >= options.killEverySeconds) throw new Error("--down must be shorter than --kill-every: one validator is down at a time");
  return options;
}

/** One validator's stop and restart, with the highest height the others had reached at each. */
interface Outage {
  readonly member: string;
  readonly heightAtKill: bigint;
  heightAtRestart?: bigint;
}

/** A process's resident memory in MB, from /proc (Linux). */
function rssMb(node: NodeProcess): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${node.child.pid}/status`, "utf8"));
  return Number(match?.[1] ?? Number.NaN) / 1024;
}

async function highestHeight(clients: readonly NodeClients[]): Promise<bigint> {
  const heights = await Promise.all(clients.map((client) => client.status().then((status) => status.height, () => 0n)));
  return heights.reduce((max, height) => (height > max ? height : max), 0n);
}

/** Seconds between each height's batch time and the one before, split by whether it took more than a round. */
async function heightTimes(reader: NodeClients, from: bigint, to: bigint): Promise<{ laterRound: number[]; firstRound: number[] }> {
  const times = { laterRound: [] as number[], firstRound: [] as number[] };
  let previous: bigint | undefined;
  for (let height = from; height <= to; height++) {
    const batch = await unary(reader.log, reader.log.getBatch, { height });
    const at = BatchHeader.decode(batch.header).proposerTimeMs;
    if (previous !== undefined) ((batch.certificate?.round ?? 0) > 0 ? times.laterRound : times.firstRound).push(Number(at - previous) / 1000);
    previous = at;
  }
  return times;
}

const secondsText = (values: readonly number[]): string =>
  values.length === 0 ? "none" : `${values.length}, median ${median(values).toFixed(2)} s, max ${Math.max(...values).toFixed(2)} s`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const members = await localFederation(Array.from({ length: options.validators }, (_, i) => `member${i}.example`));
  const processes: (NodeProcess | undefined)[] = await Promise.all(members.map((member) => startNodeProcess(member)));
  const clients = members.map((member) => new NodeClients(member));
  const memory: number[][] = members.map(() => []);
  const outages: Outage[] = [];
  const problems: string[] = [];
  console.log(`${options.validators} validators; ${options.minutes} min of load, a validator stopped every ${options.killEverySeconds} s for ${options.downSeconds} s`);
  const load = new Load(clients, options.perRequest);
  const start = Date.now();
  const elapsed = (): number => (Date.now() - start) / 1000;
  try {
    let nextKill = options.killEverySeconds;
    let nextSample = 30;
    while (elapsed() < options.minutes * 60) {
      await sleep(1000);
      if (elapsed() >= nextSample) {
        nextSample += 30;
        processes.forEach((node, i) => node !== undefined && memory[i]!.push(rssMb(node)));
      }
      // No outage that would outlast the load: its heights would go unmeasured.
      if (elapsed() < nextKill || elapsed() + options.downSeconds >= options.minutes * 60) continue;
      nextKill += options.killEverySeconds;
      const victim = outages.length % members.length;
      const outage: Outage = { member: members[victim]!.key.name, heightAtKill: await highestHeight(clients) };
      outages.push(outage);
      await processes[victim]!.kill("SIGKILL");
      processes[victim] = undefined;
      console.log(`  ${elapsed().toFixed(0)} s: ${outage.member} stopped at height ${outage.heightAtKill}; ${load.acknowledged.length} statements acknowledged`);
      await sleep(options.downSeconds * 1000);
      outage.heightAtRestart = await highestHeight(clients);
      processes[victim] = await startNodeProcess(members[victim]!);
      console.log(`  ${elapsed().toFixed(0)} s: ${outage.member} restarted at height ${outage.heightAtRestart}`);
    }
    await load.stop();
    const size = await waitForAgreement(clients, 60_000);
    const logs = await readLogs(clients);
    const reference = logs[0]!;
    if (!rootOf(reference.entries).equals(reference.checkpoint.checkpoint.root)) problems.push(`${reference.name}'s entries do not hash to its checkpoint's root`);
    const referenceHex = reference.entries.map(entryHex);
    for (const log of logs.slice(1)) {
      const differs = log.entries.findIndex((entry, index) => entryHex(entry) !== referenceHex[index]);
      if (differs >= 0 || log.entries.length !== reference.entries.length) problems.push(`${log.name}'s entries differ from ${reference.name}'s (first at ${differs})`);
    }
    const missing = missingAcknowledged(load.acknowledged, reference.entries);
    if (missing.length > 0) problems.push(`${missing.length} acknowledged statements are not at their acknowledged index, the first ${missing[0]!.statementId} at ${missing[0]!.logIndex}`);
    console.log(`\n${load.acknowledged.length} statements acknowledged, ${load.errors.length} requests failed (a node down); every node at size ${size}`);
    for (const outage of outages.filter((each) => each.heightAtRestart !== undefined)) {
      const reader = clients.find((client) => client.name !== outage.member)!;
      const times = await heightTimes(reader, outage.heightAtKill, outage.heightAtRestart!);
      console.log(`${outage.member} down, heights ${outage.heightAtKill}-${outage.heightAtRestart}: in a later round ${secondsText(times.laterRound)}; in round 0 ${secondsText(times.firstRound)}`);
    }
    members.forEach((member, i) => console.log(`${member.key.name} RSS every 30 s (MB, a restart starts over): ${memory[i]!.map((mb) => mb.toFixed(0)).join(" ")}`));
  } catch (error) {
    problems.push(`${(error as Error).message}; ${await describeNodes(clients)}`);
  } finally {
    for (const client of clients) client.close();
    await Promise.all(processes.map((node) => node?.kill("SIGTERM")));
    await rm(members[0]!.folder, { recursive: true, force: true });
  }
  for (const problem of problems) console.log(`FAILED: ${problem}`);
  console.log(problems.length === 0 ? "every check held" : `${problems.length} checks failed`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
