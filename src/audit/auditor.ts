import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { HashfedError } from "../errors";
import type { Federation } from "../federation";
import { EMPTY_ROOT } from "../log";
import type { HashSeed } from "../table";
import { type AuditReport, type Finding, type FindingSeverity, type NodeReport } from "./auditReport";
import type { AuditState } from "./auditState";
import { AUDIT_FILE_MODE, AUDIT_FOLDER_MODE } from "./auditFileModes";
import { writeFileAtomically } from "../files/atomicFile";
import { type CheckpointRelation, checkConsistencyProof, relateByPrefixProof, relateEqualSizes } from "./checkpointRelation";
import { verifyCosignedCheckpoint } from "./cosignedCheckpoint";
import { checkSampledEntry, chooseSamples } from "./entrySamples";
import { describeFork, formatForkEvidence } from "./forkEvidence";
import { type ReplayProgress, type ReplayStop, replayTo } from "./fullReplay";
import { LogNode } from "./logNode";
import { LogReplay } from "./logReplay";
import type { ObservedCheckpoint } from "./observedCheckpoint";
import { SignatureWorkers } from "./signatureWorkers";
import type { StateFolder } from "./stateFolder";

export interface AuditorOptions {
  readonly federation: Federation;
  /** The Log services to audit, host:port. */
  readonly addresses: readonly string[];
  /** Replay every entry (true) or check a sample of entries with inclusion proofs (false). */
  readonly full: boolean;
  /** How many entries a sampled audit checks each round. */
  readonly samples: number;
  /** Where fork evidence files are written (created, mode 0700, when the first is). */
  readonly evidenceFolder: string;
  /** How long one call to a node may take. */
  readonly deadlineMs: number;
  /** Signature worker threads for a full replay (default: one per core). */
  readonly workers?: number;
}

/** What the auditor takes from the world, injected so that tests can fix it. */
export interface AuditEnvironment {
  readonly now: () => Date;
  /** A uniform random integer below `bound`, to draw samples. */
  readonly randomBelow: (bound: bigint) => bigint;
  /** A secret seed for the replay's statement id table (see LogState). */
  readonly hashSeed: HashSeed;
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/** One node in one round: its client, its line in the report, and its checkpoint once verified. */
interface NodeView {
  readonly node: LogNode;
  readonly report: NodeReport;
  observed?: ObservedCheckpoint;
}

/** Sampled entries checked at once, each with two calls. */
const SAMPLES_IN_FLIGHT = 8;

/**
 * The auditor, a light client of the Log service: each round fetches every node's checkpoint,
 * requires a quorum of valid validator signatures, relates each checkpoint to the one accepted
 * before (kept in the state folder) and to the others, writes evidence for any two that cannot both
 * be true, accepts the largest one that is consistent with all, and then checks entries: a sample
 * with inclusion proofs, or the whole log replayed (continuing from the last round when following).
 * The decisions are made by the pure functions beside it (checkpointRelation, forkEvidence,
 * logReplay, entrySamples); this class fetches, keeps the state and writes the evidence.
 */
export class Auditor {
  private readonly nodes: LogNode[];
  private replay: LogReplay | undefined;
  private workers: SignatureWorkers | undefined;

  constructor(
    private readonly options: AuditorOptions,
    private readonly environment: AuditEnvironment,
  ) {
    this.nodes = options.addresses.map((address) => new LogNode(address, options.deadlineMs));
  }

  /** One audit round against the state in `folder`, which it updates when a newer checkpoint is accepted. */
  async round(folder: StateFolder): Promise<AuditReport> {
    const { federation } = this.options;
    const state = await folder.read();
    const report: AuditReport = {
      origin: federation.origin,
      federationId: federation.id,
      mode: this.options.full ? "full" : "sampled",
      startedAt: this.environment.now().toISOString(),
      previous: state.accepted,
      accepted: state.accepted,
      nodes: [],
      evidenceFiles: [],
      findings: [],
    };
    const views = await Promise.all(this.nodes.map((node) => this.observe(node, report)));
    report.nodes.push(...views.map((view) => view.report));
    if (state.accepted !== undefined) await this.relateToAccepted(state.accepted, views, report);
    const newest = await this.relateToEachOther(views.filter((view) => view.report.standing === "current"), report);
    if (report.findings.some((finding) => finding.severity === "fork")) return report;
    if (newest !== undefined && (state.accepted === undefined || newest.observed!.verified.checkpoint.size > state.accepted.verified.checkpoint.size)) {
      report.accepted = newest.observed;
      await folder.write({ federationId: federation.id, accepted: newest.observed } satisfies AuditState);
    }
    const acceptedSize = report.accepted?.verified.checkpoint.size;
    const source = views.find((view) => view.report.standing === "current" && view.observed!.verified.checkpoint.size === acceptedSize);
    if (source !== undefined) await this.checkEntries(report, source.node, views);
    return report;
  }

  async close(): Promise<void> {
    for (const node of this.nodes) node.close();
    await this.workers?.close();
  }

  /** Fetches and verifies one node's checkpoint; a node that fails here takes no further part in the round. */
  private async observe(node: LogNode, report: AuditReport): Promise<NodeView> {
    const view: NodeView = { node, report: { address: node.address, standing: "current" } };
    try {
      const note = await node.checkpoint();
      if (note === undefined) {
        view.report.standing = "empty";
        return view;
      }
      const verified = verifyCosignedCheckpoint(this.options.federation, note);
      if (verified.checkpoint.size === 0n && !verified.checkpoint.root.equals(EMPTY_ROOT)) {
        throw new HashfedError("invalid", "CHECKPOINT_EMPTY_ROOT_WRONG", "its checkpoint of size 0 does not carry the empty-tree root");
      }
      view.report.checkpoint = verified;
      view.observed = { verified, source: node.address, observedAt: this.environment.now().toISOString() };
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      const unreachable = error.kind === "unavailable";
      view.report.standing = unreachable ? "unreachable" : "failed";
      const message = error.message.startsWith(node.address) ? error.message : `${node.address}: ${error.message}`;
      addFinding(report, unreachable ? "unavailable" : "failure", error.code, message);
    }
    return view;
  }

  /** Each node's checkpoint against the accepted one: the same, a proven extension, a proven prefix, or a fork. */
  private async relateToAccepted(accepted: ObservedCheckpoint, views: NodeView[], report: AuditReport): Promise<void> {
    const acceptedSize = accepted.verified.checkpoint.size;
    const sizeOf = (view: NodeView): bigint => view.observed?.verified.checkpoint.size ?? 0n;
    const larger = views.filter((view) => view.observed !== undefined && sizeOf(view) >= acceptedSize);
    for (const view of larger) {
      const relation = sizeOf(view) === acceptedSize
        ? relateEqualSizes(this.options.federation, accepted, view.observed!)
        : await this.prove(accepted, view.observed!, view.node);
      await this.settle(view, relation, report);
    }
    const provers = larger.filter((view) => view.report.standing === "current").map((view) => view.node);
    for (const view of views.filter((each) => (each.observed !== undefined || each.report.standing === "empty") && sizeOf(each) < acceptedSize)) {
      await this.relateSmaller(accepted, view, provers, report);
    }
  }

  /**
   * A node serving less than the accepted checkpoint: behind, if a node holding the accepted tree
   * proves its checkpoint a prefix; a fork, if that proof shows another root at its size. A node
   * that itself served the accepted checkpoint and now serves less has lost history either way.
   */
  private async relateSmaller(accepted: ObservedCheckpoint, view: NodeView, provers: LogNode[], report: AuditReport): Promise<void> {
    const size = view.observed?.verified.checkpoint.size ?? 0n;
    const acceptedSize = accepted.verified.checkpoint.size;
    let proven = size === 0n;
    for (const prover of proven ? [] : provers) {
      try {
        const served = await prover.inclusionProof(size - 1n, acceptedSize);
        const relation = relateByPrefixProof(this.options.federation, view.observed!, accepted, served);
        if (relation.kind === "fork") return await this.settle(view, relation, report);
        proven = true;
        break;
      } catch (error) {
        if (!(error instanceof HashfedError)) throw error;
      }
    }
    const lost = `${view.node.address} served the checkpoint of size ${acceptedSize} at ${accepted.observedAt} and now serves ${size === 0n ? "an empty log" : `size ${size}`}`;
    if (accepted.source === view.node.address) {
      view.report.standing = "failed";
      addFinding(report, "failure", "LOG_SHRANK", `${lost}: its log shrank${proven ? " (to a prefix of what it served)" : ", and no node proves the smaller tree a prefix of the larger"}`);
    } else if (proven) {
      if (view.report.standing === "current") view.report.standing = "behind";
    } else {
      view.report.standing = "failed";
      addFinding(report, "unavailable", "CONSISTENCY_UNPROVEN", `${view.node.address} serves a checkpoint of size ${size}, smaller than the accepted size ${acceptedSize}, and no node serving the accepted tree proves it a prefix`);
    }
  }

  /**
   * The nodes' checkpoints against each other, smallest first: each must be proven a prefix of the
   * next by the node serving the larger. Returns the largest checkpoint proven consistent with all
   * smaller ones; the nodes serving smaller ones (all of them, when several serve one size) are
   * behind it.
   */
  private async relateToEachOther(current: NodeView[], report: AuditReport): Promise<NodeView | undefined> {
    const bySize = [...current].sort((a, b) => (a.observed!.verified.checkpoint.size < b.observed!.verified.checkpoint.size ? -1 : 1));
    let newest: NodeView[] = [];
    for (const view of bySize) {
      const [older, newer] = [newest[0]?.observed, view.observed!];
      if (older !== undefined) {
        const relation = older.verified.checkpoint.size === newer.verified.checkpoint.size
          ? relateEqualSizes(this.options.federation, older, newer)
          : await this.prove(older, newer, view.node);
        await this.settle(view, relation, report);
        if (view.report.standing !== "current") continue;
        if (newer.verified.checkpoint.size > older.verified.checkpoint.size) {
          for (const behind of newest) behind.report.standing = "behind";
          newest = [];
        }
      }
      newest.push(view);
    }
    return newest[0];
  }

  /**
   * Whether `prover`'s tree extends `older`: a consistency proof first; when that fails, an
   * inclusion proof of older's last entry, which either shows a fork (and is its evidence) or shows
   * that the node sent a bad consistency proof for a consistent tree.
   */
  private async prove(older: ObservedCheckpoint, newer: ObservedCheckpoint, prover: LogNode): Promise<CheckpointRelation | Finding> {
    const [first, second] = [older.verified.checkpoint, newer.verified.checkpoint];
    if (first.size === 0n) return { kind: "consistent" };
    let consistencyError: HashfedError;
    try {
      checkConsistencyProof(older, newer, await prover.consistencyProof(first.size, second.size));
      return { kind: "consistent" };
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      consistencyError = error;
    }
    try {
      const relation = relateByPrefixProof(this.options.federation, older, newer, await prover.inclusionProof(first.size - 1n, second.size));
      if (relation.kind === "fork") return relation;
      return finding("failure", "NODE_PROOF_INVALID", `${prover.address} sent a consistency proof from size ${first.size} to ${second.size} that does not verify (${consistencyError.message}), although its tree extends the smaller one`);
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      // A consistency proof that came and does not verify is a failure whatever follows: no honest node sends one.
      return finding(
        consistencyError.kind === "unavailable" && error.kind === "unavailable" ? "unavailable" : "failure",
        "CONSISTENCY_UNPROVEN",
        `${prover.address} cannot prove its checkpoint of size ${second.size} consistent with the checkpoint of size ${first.size} from ${older.source}: ${consistencyError.message}; the inclusion proof of entry ${first.size - 1n} settles nothing either: ${error.message}`,
      );
    }
  }

  /** Records what a relation means for a node: nothing when consistent, a finding, or a fork with its evidence. */
  private async settle(view: NodeView, relation: CheckpointRelation | Finding, report: AuditReport): Promise<void> {
    if ("kind" in relation && relation.kind === "consistent") return;
    if ("severity" in relation) {
      view.report.standing = "failed";
      report.findings.push(relation);
      return;
    }
    view.report.standing = "forked";
    await mkdir(this.options.evidenceFolder, { recursive: true, mode: AUDIT_FOLDER_MODE });
    const file = join(this.options.evidenceFolder, `fork-evidence-${report.startedAt.replace(/[:.]/g, "-")}-${report.evidenceFiles.length + 1}.json`);
    await writeFileAtomically(file, formatForkEvidence(this.options.federation, relation.evidence), { mode: AUDIT_FILE_MODE, exclusive: true });
    report.evidenceFiles.push(file);
    addFinding(report, "fork", "FORK", describeFork(relation.fork));
  }

  /** Entries under the accepted checkpoint, from `node`: sampled with inclusion proofs, or the whole log replayed. */
  private async checkEntries(report: AuditReport, node: LogNode, views: NodeView[]): Promise<void> {
    const target = report.accepted!;
    try {
      if (!this.options.full) {
        await this.checkSamples(report, node, target);
        return;
      }
      const replay = (this.replay ??= new LogReplay(this.options.federation, this.environment.hashSeed));
      const from = replay.size;
      if (from >= target.verified.checkpoint.size) return;
      // The roots of every checkpoint proven part of this history: the replay must pass through each.
      const proven = views.filter((view) => view.report.standing === "current" || view.report.standing === "behind");
      const knownRoots = new Map<bigint, Buffer>();
      for (const seen of [report.previous, ...proven.map((view) => view.observed)]) {
        if (seen !== undefined) knownRoots.set(seen.verified.checkpoint.size, seen.verified.checkpoint.root);
      }
      const started = process.hrtime.bigint();
      const cpuStarted = process.cpuUsage();
      this.workers ??= new SignatureWorkers(this.options.federation, this.options.workers);
      const stop: ReplayStop = { stands: false };
      try {
        await replayTo(replay, this.workers, { checkpoint: target, node, knownRoots }, stop, this.environment.onProgress);
      } catch (error) {
        // Runs are applied before their roots are checked: a replay that stopped may hold entries no
        // root vouches for, and the next round (with --follow) starts it over, unless it stands.
        if (!stop.stands) this.replay = undefined;
        throw error;
      }
      const cpu = process.cpuUsage(cpuStarted);
      report.replay = { from, to: replay.size, seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (cpu.user + cpu.system) / 1e6, tallies: replay.tallies };
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      // A node that stopped answering, or a log too large to replay here, leaves the audit incomplete; anything else failed.
      const incomplete = error.kind === "unavailable" || error.kind === "exhausted";
      addFinding(report, incomplete ? "unavailable" : "failure", error.code, error.message);
    }
  }

  private async checkSamples(report: AuditReport, node: LogNode, target: ObservedCheckpoint): Promise<void> {
    const size = target.verified.checkpoint.size;
    const previousSize = report.previous?.verified.checkpoint.size ?? 0n;
    const indexes = chooseSamples(size, previousSize, this.options.samples, this.environment.randomBelow);
    const queue = [...indexes];
    // The first failure stops the checks not yet begun, and every check in flight ends before the round does.
    let failure: unknown;
    const checkNext = async (): Promise<void> => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        try {
          const [leaves, proof] = await Promise.all([node.leaves(index, index + 1n), node.inclusionProof(index, size)]);
          checkSampledEntry(this.options.federation, target.verified, index, leaves[0]!, proof, node.address);
        } catch (error) {
          failure ??= error;
          queue.length = 0;
        }
      }
    };
    await Promise.all(Array.from({ length: SAMPLES_IN_FLIGHT }, checkNext));
    if (failure !== undefined) throw failure;
    report.sampledIndexes = indexes;
  }
}

function finding(severity: FindingSeverity, code: string, message: string): Finding {
  return { severity, code, message };
}

function addFinding(report: AuditReport, severity: FindingSeverity, code: string, message: string): void {
  report.findings.push(finding(severity, code, message));
}
