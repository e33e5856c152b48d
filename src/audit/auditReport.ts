import type { VerifiedCheckpoint } from "./cosignedCheckpoint";
import type { EntryTallies } from "./entryTallies";
import { describeCheckpoint, type ObservedCheckpoint } from "./observedCheckpoint";

/**
 * What one audit round found, for people (formatAuditReport) and machines (auditReportJson), and
 * the verdict that becomes the command's exit code. The worst finding decides the verdict: a
 * proven fork, then a failed check, then a node that could not be audited.
 */
export type Verdict = "ok" | "incomplete" | "failed" | "fork";

/** The documented exit codes of `hashfed audit` (2 is commander's usage error). */
export const VERDICT_EXIT_CODES: Readonly<Record<Verdict, number>> = { ok: 0, failed: 1, fork: 3, incomplete: 4 };

export type FindingSeverity = "fork" | "failure" | "unavailable";

export interface Finding {
  readonly severity: FindingSeverity;
  readonly code: string;
  readonly message: string;
}

/**
 * How a node's checkpoint stands: "current" (the largest verified, or equal to it), "behind" (a
 * proven prefix of it), "empty" (nothing committed), or "forked" / "failed" / "unreachable" with
 * the reason in the findings.
 */
export type NodeStanding = "current" | "behind" | "empty" | "forked" | "failed" | "unreachable";

export interface NodeReport {
  readonly address: string;
  standing: NodeStanding;
  checkpoint?: VerifiedCheckpoint;
}

export interface ReplaySummary {
  readonly from: bigint;
  readonly to: bigint;
  readonly seconds: number;
  /** CPU time of the auditor's process over the replay, its worker threads included. */
  readonly cpuSeconds: number;
  readonly tallies: EntryTallies;
}

export interface AuditReport {
  readonly origin: string;
  readonly federationId: Buffer;
  readonly mode: "sampled" | "full";
  readonly startedAt: string;
  /** The checkpoint accepted before this round, from the state folder. */
  readonly previous?: ObservedCheckpoint;
  readonly nodes: NodeReport[];
  /** The checkpoint accepted after this round (the previous one when nothing new was accepted). */
  accepted?: ObservedCheckpoint;
  /** Entries checked one by one with inclusion proofs (sampled mode). */
  sampledIndexes?: bigint[];
  replay?: ReplaySummary;
  readonly evidenceFiles: string[];
  readonly findings: Finding[];
}

export function verdictOf(report: AuditReport): Verdict {
  const severities = new Set(report.findings.map((finding) => finding.severity));
  if (severities.has("fork")) return "fork";
  if (severities.has("failure")) return "failed";
  if (severities.has("unavailable")) return "incomplete";
  return "ok";
}

/** The report for people: a headline with the verdict, then one line per node and per finding. */
export function formatAuditReport(report: AuditReport): string {
  const lines = [`audit of ${report.origin} (federation ${report.federationId.toString("hex").slice(0, 16)}…), ${report.mode}, ${report.startedAt}: ${verdictOf(report).toUpperCase()}`];
  const previous = report.previous;
  lines.push(previous === undefined ? "  no checkpoint accepted before (first contact)" : `  accepted before: ${describeCheckpoint(previous.verified)} from ${previous.source} at ${previous.observedAt}`);
  for (const node of report.nodes) {
    lines.push(`  ${node.address}: ${node.standing}${node.checkpoint === undefined ? "" : `, ${describeCheckpoint(node.checkpoint)} cosigned by ${node.checkpoint.signers.join(", ")}`}`);
  }
  if (report.accepted !== undefined && report.accepted !== previous) lines.push(`  now accepted: ${describeCheckpoint(report.accepted.verified)}`);
  if (report.sampledIndexes !== undefined) {
    lines.push(`  ${report.sampledIndexes.length} sampled entries checked with inclusion proofs, signatures and rules: ${report.sampledIndexes.join(", ")}`);
  }
  if (report.replay !== undefined) lines.push(...formatReplay(report.replay));
  for (const finding of report.findings) {
    const severity = finding.severity.toUpperCase();
    lines.push(`  ${severity}${finding.code === severity ? "" : ` ${finding.code}`}: ${finding.message}`);
  }
  for (const file of report.evidenceFiles) lines.push(`  fork evidence written to ${file} (check it with \`hashfed audit verify-evidence\`)`);
  return lines.join("\n") + "\n";
}

function formatReplay(replay: ReplaySummary): string[] {
  const count = replay.to - replay.from;
  const rate = replay.seconds > 0 ? Math.round(Number(count) / replay.seconds).toLocaleString("en-US") : "-";
  const { tallies } = replay;
  const counts = <K>(map: ReadonlyMap<K, number>): string => [...map].sort(byKey).map(([key, value]) => `${String(key)} ${value}`).join(", ") || "none";
  return [
    `  replayed entries [${replay.from}, ${replay.to}) in ${replay.seconds.toFixed(1)} s (${rate} entries/s, ${replay.cpuSeconds.toFixed(1)} CPU-seconds): every root, signature, submitter and rule checked`,
    `  entries: ${tallies.entries} (${tallies.additions} additions, ${tallies.retractions} retractions)`,
    `    by member: ${[...tallies.byMember].sort(byKey).map(([name, tally]) => `${name} +${tally.additions} -${tally.retractions}`).join(", ") || "none"}`,
    `    additions by label: ${counts(tallies.byLabel)}`,
    `    additions by taxonomy version: ${counts(tallies.byTaxonomyVersion)}`,
    `    additions by signal type: ${counts(tallies.bySignalType)}`,
    `    retractions by reason: ${counts(tallies.retractionsByReason)}`,
    `    by day (submitter clocks): ${[...tallies.byDay].sort(byKey).map(([day, tally]) => `${day} +${tally.additions} -${tally.retractions}`).join(", ") || "none"}`,
  ];
}

function byKey<K>(a: [K, unknown], b: [K, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** The report as a JSON-ready object: maps become objects with sorted keys, checkpoints their fields. */
export function auditReportJson(report: AuditReport): object {
  const checkpoint = (verified: VerifiedCheckpoint): object => ({ size: verified.checkpoint.size, root: verified.checkpoint.root, signers: verified.signers });
  const observed = (seen: ObservedCheckpoint | undefined): object | undefined =>
    seen === undefined ? undefined : { ...checkpoint(seen.verified), source: seen.source, acceptedAt: seen.observedAt, note: seen.verified.note };
  const replay = report.replay;
  return {
    verdict: verdictOf(report),
    origin: report.origin,
    federationId: report.federationId,
    mode: report.mode,
    startedAt: report.startedAt,
    previous: observed(report.previous),
    accepted: observed(report.accepted),
    nodes: report.nodes.map((node) => ({ address: node.address, standing: node.standing, ...(node.checkpoint === undefined ? {} : { checkpoint: checkpoint(node.checkpoint) }) })),
    sampledIndexes: report.sampledIndexes,
    replay: replay === undefined ? undefined : {
      from: replay.from,
      to: replay.to,
      seconds: replay.seconds,
      cpuSeconds: replay.cpuSeconds,
      entriesPerSecond: replay.seconds > 0 ? Number(replay.to - replay.from) / replay.seconds : undefined,
      tallies: talliesJson(replay.tallies),
    },
    evidenceFiles: report.evidenceFiles,
    findings: report.findings,
  };
}

function talliesJson(tallies: EntryTallies): object {
  const sorted = <K, V>(map: ReadonlyMap<K, V>): Record<string, V> => Object.fromEntries([...map].sort(byKey).map(([key, value]) => [String(key), value]));
  return {
    entries: tallies.entries,
    additions: tallies.additions,
    retractions: tallies.retractions,
    byMember: sorted(tallies.byMember),
    byLabel: sorted(tallies.byLabel),
    byTaxonomyVersion: sorted(tallies.byTaxonomyVersion),
    bySignalType: sorted(tallies.bySignalType),
    retractionsByReason: sorted(tallies.retractionsByReason),
    byDay: sorted(tallies.byDay),
  };
}
