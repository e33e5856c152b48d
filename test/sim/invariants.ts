import { createHash } from "node:crypto";
import { verifyCosignedCheckpoint } from "../../src/audit";
import { type AssembledBatch, GENESIS_HEADER_HASH, revealsDigest } from "../../src/batch";
import { verifyCommitCertificate, verifyEvidence } from "../../src/consensus";
import { parseNote } from "../../src/crypto";
import { type Federation, isValidator, memberByName, quorumSize } from "../../src/federation";
import { BatchHeader, type CommitCertificate, Proposal, Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { CompactRange, formatCheckpoint, hashLeaf, verifyConsistency } from "../../src/log";
import type { Replica } from "../../src/replica/replica";
import { checkStatementReveal, verifyStatementSignature } from "../../src/statements";
import type { Trace } from "./trace";

/**
 * The simulator's checkers (reference/consensus.md §3.2, "Invariants"). The cluster feeds them what
 * happens (commits, replica starts, messages sent) and the run loop calls afterEvent after every
 * event; each broken rule becomes a Violation naming the invariant, the node and the virtual time.
 * They judge correct nodes only: a node is correct unless it is Byzantine. A node restored from an
 * old copy of its disk counts against f for the rest of the run (by design it may not know what it
 * signed), so its equivocations are reported apart from those of the other correct nodes.
 *
 * The checkers recompute rather than trust the replica's code: batch validity is recomputed from
 * the entries (leaf hashes, a CompactRange of their own, the header bytes and id), agreement is a
 * map height -> id written at the first correct commit, and certificates and cosigned checkpoints
 * are verified again, from the federation file alone.
 */

export type InvariantName =
  /** Two correct replicas committed different batches at one height. */
  | "agreement"
  /** A committed batch is not valid(v) on top of its predecessor. */
  | "validity"
  /** A replica's log is not an extension of what it held, or not a prefix of the canonical log. */
  | "prefix"
  /** A stored certificate or cosigned checkpoint does not verify, or proofs between checkpoints fail. */
  | "certificate"
  /** A correct replica signed two different messages for one (height, round, kind). */
  | "double-sign"
  /** Evidence at a correct replica names a correct validator. */
  | "evidence-against-correct"
  /** Evidence at a correct replica names a validator restored from an old disk: it equivocated, and both messages were delivered. */
  | "stale-equivocation"
  /** An acknowledged statement is not at its log index in a correct replica's log after the run. */
  | "durability"
  /** After the network healed, the correct replicas did not decide K more heights within the bound. */
  | "liveness"
  /** A correct replica threw (a failed assertion, an unexpected error). */
  | "replica-failure"
  /** A fork whose evidence names fewer than f+1 validators (beyond-threshold runs only). */
  | "accountability";

export interface Violation {
  readonly invariant: InvariantName;
  readonly atMs: number;
  readonly node: string;
  readonly detail: string;
}

export function formatViolation(violation: Violation): string {
  return `[${violation.invariant}] at ${violation.atMs.toFixed(3)}ms ${violation.node === "" ? "" : `${violation.node}: `}${violation.detail}`;
}

/** A distinct batch some correct replica committed, with what validity computed for it. */
interface BatchRecord {
  readonly height: bigint;
  readonly id: string;
  /** "" for the first height. */
  readonly parentId: string;
  readonly batch: AssembledBatch;
  /** The tree's right edge after this batch, recomputed by the checker. */
  readonly range: CompactRange;
  readonly statementIds: ReadonlySet<string>;
}

/** Where one correct node's log stands, as the checker saw it grow. */
interface NodeChain {
  height: bigint;
  /** Hex id of the last batch; "" at genesis. */
  id: string;
}

export interface InvariantCheckerOptions {
  readonly federation: Federation;
  readonly byzantine: ReadonlySet<string>;
  /** More than f Byzantine validators: forks are recorded for the accountability check, not reported as agreement violations. */
  readonly forksExpected: boolean;
  readonly now: () => number;
  readonly trace?: Trace;
}

/** A fork: a height at which correct replicas committed more than one batch. */
export interface Fork {
  readonly height: bigint;
  /** Batch id -> the correct nodes that committed it. */
  readonly committers: ReadonlyMap<string, readonly string[]>;
}

export class InvariantChecker {
  readonly violations: Violation[] = [];
  /** Conflicting messages sent (not necessarily delivered) by nodes restored from an old disk: reported, not violations. */
  readonly staleDoubleSigns: string[] = [];
  /** Every validator named by verified evidence held by a correct replica. */
  readonly evidenceNamed = new Set<string>();
  private readonly options: InvariantCheckerOptions;
  private readonly batches = new Map<string, BatchRecord>();
  /** Statement id -> the id of the first batch holding it. */
  private readonly statementBatch = new Map<string, string>();
  /** Height -> batch id -> correct nodes that committed it. */
  private readonly commitsByHeight = new Map<bigint, Map<string, string[]>>();
  private readonly chains = new Map<string, NodeChain>();
  /** Signed message contents by "validator/height/round/kind", as first sent by a correct node, and when. */
  private readonly signedBySlot = new Map<string, { readonly content: Buffer; readonly atMs: number }>();
  private readonly staleNodes = new Set<string>();
  /** For each stale node's restores from an old disk copy: when the copy was taken, and when it was restored. */
  private readonly staleWindows = new Map<string, { readonly copiedAtMs: number; readonly restoredAtMs: number }[]>();
  private readonly evidenceSeen = new Map<Replica, number>();
  private readonly verifiedNotes = new Map<string, { size: bigint; root: Buffer }>();
  private readonly verifiedCertificates = new Set<string>();
  private lastSentBytes: Uint8Array | undefined;

  constructor(options: InvariantCheckerOptions) {
    this.options = options;
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  isCorrect(node: string): boolean {
    return !this.options.byzantine.has(node);
  }

  /** From now on `node` counts as restored from an old disk copy. */
  markStale(node: string, copiedAtMs: number): void {
    this.staleNodes.add(node);
    this.staleWindows.set(node, [...(this.staleWindows.get(node) ?? []), { copiedAtMs, restoredAtMs: this.options.now() }]);
  }

  get staleRestored(): ReadonlySet<string> {
    return this.staleNodes;
  }

  /** The canonical batch id at `height` (the first a correct replica committed), if any. */
  canonicalId(height: bigint): string | undefined {
    const committers = this.commitsByHeight.get(height);
    return committers === undefined ? undefined : committers.keys().next().value;
  }

  /** Heights at which correct replicas committed different batches. */
  forks(): Fork[] {
    const forks: Fork[] = [];
    for (const [height, committers] of this.commitsByHeight) if (committers.size > 1) forks.push({ height, committers });
    return forks;
  }

  violate(invariant: InvariantName, node: string, detail: string): void {
    const violation = { invariant, atMs: this.options.now(), node, detail };
    this.violations.push(violation);
    this.options.trace?.record(violation.atMs, node, `VIOLATION ${formatViolation(violation)}`);
  }

  // ---- replicas starting and committing ------------------------------------------------------

  /** A correct replica opened its store: what it holds must be a prefix of the canonical log. Watches its commits from now on. */
  onOpen(node: string, replica: Replica): void {
    if (!this.isCorrect(node)) return;
    const head = replica.ledger.head;
    const id = head.height === 0n ? "" : head.headerHash.toString("hex");
    if (head.height > 0n) {
      const record = this.batches.get(id);
      if (record === undefined || record.height !== head.height) {
        this.violate("prefix", node, `restarted with head ${head.height}/${short(id)}, a batch no correct replica committed at that height`);
      } else if (!this.options.forksExpected && this.canonicalId(head.height) !== id) {
        this.violate("prefix", node, `restarted with head ${head.height}/${short(id)}, not the canonical ${short(this.canonicalId(head.height) ?? "")}`);
      } else if (!record.range.root().equals(head.range.root()) || record.range.size !== head.range.size) {
        this.violate("prefix", node, `restarted with a tree (size ${head.range.size}) that differs from the committed one at height ${head.height}`);
      }
    }
    this.chains.set(node, { height: head.height, id });
    this.evidenceSeen.set(replica, 0);
    replica.ledger.onCommit((batch, checkpointNote) => this.onCommit(node, batch, checkpointNote));
  }

  private onCommit(node: string, batch: AssembledBatch, checkpointNote: string): void {
    const id = batch.id.toString("hex");
    const height = batch.header.height;
    const chain = this.chains.get(node)!;
    const parentId = height === 1n ? "" : Buffer.from(batch.header.previousHeaderHash).toString("hex");
    this.options.trace?.record(this.options.now(), node, `commit ${height}/${short(id)} size ${batch.header.treeSize} entries ${batch.entries.length}`);
    if (height !== chain.height + 1n || parentId !== chain.id) {
      this.violate("prefix", node, `committed ${height}/${short(id)} on ${short(parentId)} while its log ended at ${chain.height}/${short(chain.id)}`);
    }
    chain.height = height;
    chain.id = id;
    const known = this.batches.get(id);
    if (known === undefined) this.checkNewBatch(node, batch, parentId);
    else this.checkSameBody(node, batch, known);
    this.checkAgreement(node, height, id);
    this.checkCheckpointShape(node, batch, checkpointNote);
  }

  private checkAgreement(node: string, height: bigint, id: string): void {
    let committers = this.commitsByHeight.get(height);
    if (committers === undefined) this.commitsByHeight.set(height, (committers = new Map()));
    const first = committers.keys().next().value;
    const nodes = committers.get(id);
    if (nodes === undefined) committers.set(id, [node]);
    else if (!nodes.includes(node)) nodes.push(node);
    if (first !== undefined && first !== id && !this.options.forksExpected) {
      this.violate("agreement", node, `committed ${height}/${short(id)}, but ${committers.get(first)!.join(", ")} committed ${height}/${short(first)}`);
    }
  }

  /** valid(v), recomputed: header bytes and id, links, entries, signatures, reveals, tree size and root, checkpoint. */
  private checkNewBatch(node: string, batch: AssembledBatch, parentId: string): void {
    const id = batch.id.toString("hex");
    const problems: string[] = [];
    const parent = parentId === "" ? undefined : this.batches.get(parentId);
    if (parentId !== "" && parent === undefined) problems.push(`its parent ${short(parentId)} was never committed by a correct replica`);
    const header = BatchHeader.decode(batch.headerBytes);
    const { federation } = this.options;
    if (!createHash("sha256").update(batch.headerBytes).digest().equals(batch.id)) problems.push("its id is not the SHA-256 of its header");
    if (!Buffer.from(header.federationId).equals(federation.id)) problems.push("its header names another federation");
    if (header.height !== (parent?.height ?? 0n) + 1n) problems.push(`its height ${header.height} does not follow its parent's`);
    if (!Buffer.from(header.previousHeaderHash).equals(parent?.batch.id ?? GENESIS_HEADER_HASH)) problems.push("its previous header hash is not its parent's id");
    if (batch.entries.length === 0 || batch.entries.length > federation.parameters.batchEntriesMax) problems.push(`it holds ${batch.entries.length} entries`);
    if (header.entryCount !== batch.entries.length) problems.push(`its header counts ${header.entryCount} entries, it holds ${batch.entries.length}`);
    const range = parent?.range.clone() ?? CompactRange.empty();
    const statementIds = new Set<string>();
    batch.entries.forEach((entry, offset) => {
      const statementId = entry.signed.id.toString("hex");
      range.append(hashLeaf(entry.signed.entryBytes));
      const problem = this.entryProblem(entry, statementId, statementIds, parent);
      if (problem !== undefined) problems.push(`entry ${offset}: ${problem}`);
      statementIds.add(statementId);
    });
    if (header.treeSize !== range.size) problems.push(`its tree size ${header.treeSize} is not ${range.size}`);
    if (!Buffer.from(header.root).equals(range.root())) problems.push("its root does not recompute from the entries");
    if (!Buffer.from(header.revealsDigest).equals(revealsDigest(batch.entries))) problems.push("its reveals digest does not recompute");
    const checkpointBody = formatCheckpoint({ origin: federation.origin, size: range.size, root: range.root(), extensions: [] });
    if (batch.checkpointBody !== checkpointBody) problems.push("the checkpoint it produces is not the one of its tree");
    if (problems.length > 0) this.violate("validity", node, `batch ${header.height}/${short(id)}: ${problems.join("; ")}`);
    this.batches.set(id, { height: header.height, id, parentId, batch, range, statementIds });
    for (const statementId of statementIds) if (!this.statementBatch.has(statementId)) this.statementBatch.set(statementId, id);
  }

  /**
   * A batch another correct replica committed first, with the same header, must hold the same
   * entries and reveals: agreement compares ids only, and a body that does not match its header
   * (a Byzantine proposer's changed batch, taken by a bug) would otherwise pass.
   */
  private checkSameBody(node: string, batch: AssembledBatch, known: BatchRecord): void {
    const first = known.batch.entries;
    const same = batch.entries.length === first.length && batch.entries.every((entry, i) => entry.signed.entryBytes.equals(first[i]!.signed.entryBytes));
    if (!same) this.violate("validity", node, `committed batch ${known.height}/${short(known.id)} with other entries than the replica that committed it first`);
    else if (!revealsDigest(batch.entries).equals(revealsDigest(first))) this.violate("validity", node, `committed batch ${known.height}/${short(known.id)} with other reveals than the replica that committed it first`);
  }

  private entryProblem(entry: AssembledBatch["entries"][number], statementId: string, earlier: ReadonlySet<string>, parent: BatchRecord | undefined): string | undefined {
    const statement = entry.signed.statement;
    const member = memberByName(this.options.federation, statement.submitter);
    if (member === undefined) return `its submitter ${statement.submitter} is not a member`;
    try {
      verifyStatementSignature(member, entry.signed);
      checkStatementReveal(entry.signed, entry.reveal);
    } catch (error) {
      return (error as Error).message;
    }
    if (earlier.has(statementId) || this.inChain(statementId, parent)) return `statement ${short(statementId)} is already on the log`;
    const body = statement.body!;
    if (body.$case === "retract") {
      const target = Buffer.from(body.value.target).toString("hex");
      if (!earlier.has(target) && !this.inChain(target, parent)) return `it retracts ${short(target)}, which is not on the log`;
    }
    return undefined;
  }

  /** Whether the statement is in the batch `tip` or one of its ancestors. */
  private inChain(statementId: string, tip: BatchRecord | undefined): boolean {
    const holder = this.statementBatch.get(statementId);
    if (holder === undefined) return false;
    const holderHeight = this.batches.get(holder)!.height;
    for (let record = tip; record !== undefined && record.height >= holderHeight; record = this.batches.get(record.parentId)) {
      if (record.statementIds.has(statementId)) return true;
    }
    return false;
  }

  /**
   * At each commit, a structural check of the cosigned checkpoint the replica published: it is the
   * batch's checkpoint, signed by at least a quorum of distinct validators. Its signatures are
   * verified when the store is read back (checkStores), once per distinct note.
   */
  private checkCheckpointShape(node: string, batch: AssembledBatch, note: string): void {
    try {
      const parsed = parseNote(note);
      const signers = new Set(parsed.signatures.map((signature) => signature.name).filter((name) => isValidator(this.options.federation, name)));
      if (parsed.text !== batch.checkpointBody) {
        this.violate("certificate", node, `the cosigned checkpoint at height ${batch.header.height} is not the checkpoint of its batch`);
      } else if (signers.size < quorumSize(this.options.federation.validators.length)) {
        this.violate("certificate", node, `the cosigned checkpoint at height ${batch.header.height} names ${signers.size} validators, fewer than a quorum`);
      }
    } catch (error) {
      this.violate("certificate", node, `the cosigned checkpoint at height ${batch.header.height} does not parse: ${(error as Error).message}`);
    }
  }

  private checkCheckpointNote(node: string, batch: AssembledBatch, note: string): void {
    try {
      const checkpoint = this.verifyNote(note);
      if (checkpoint.size !== batch.header.treeSize || !checkpoint.root.equals(Buffer.from(batch.header.root))) {
        this.violate("certificate", node, `the cosigned checkpoint at height ${batch.header.height} is for size ${checkpoint.size}, not the batch's tree`);
      }
    } catch (error) {
      this.violate("certificate", node, `the cosigned checkpoint at height ${batch.header.height} does not verify: ${(error as Error).message}`);
    }
  }

  /** verifyCosignedCheckpoint, remembered by note text (the same note reaches many checks). */
  private verifyNote(note: string): { size: bigint; root: Buffer } {
    const known = this.verifiedNotes.get(note);
    if (known !== undefined) return known;
    const { checkpoint } = verifyCosignedCheckpoint(this.options.federation, note);
    const verified = { size: checkpoint.size, root: Buffer.from(checkpoint.root) };
    this.verifiedNotes.set(note, verified);
    return verified;
  }

  // ---- what correct nodes sign ---------------------------------------------------------------

  /**
   * Every message a correct node's replica sends. The proposals and votes it signed itself (not
   * those it relays) are kept per slot; a second, different one for a slot is a double signature.
   * A broadcast hands the same bytes to every peer, so one decode serves them all.
   */
  onSend(from: string, bytes: Uint8Array): void {
    if (!this.isCorrect(from) || bytes === this.lastSentBytes) return;
    this.lastSentBytes = bytes;
    if (bytes[0] !== PROPOSAL_TAG && bytes[0] !== VOTE_TAG) return;
    const slot = signedSlot(bytes);
    if (slot === undefined || slot.signer !== from) return;
    const first = this.signedBySlot.get(slot.name);
    if (first === undefined) {
      this.signedBySlot.set(slot.name, { content: slot.content, atMs: this.options.now() });
      this.options.trace?.record(this.options.now(), from, `signed ${slot.name.slice(from.length + 1)} ${slot.summary}`);
      return;
    }
    if (first.content.equals(slot.content)) return;
    // Excused only where an old disk copy could not know the first: signed after a copy was taken and
    // before it was restored (a copy's write-ahead state holds what was signed before it, unless an
    // earlier restore had lost that: hence every restore's window, not only the last).
    const windows = this.staleWindows.get(from) ?? [];
    if (windows.some((window) => first.atMs > window.copiedAtMs && first.atMs < window.restoredAtMs)) {
      this.staleDoubleSigns.push(`${from} sent a second, different message for ${slot.name} at ${this.options.now().toFixed(3)}ms (${slot.summary})`);
      this.options.trace?.record(this.options.now(), from, `stale node signed ${slot.name.slice(from.length + 1)} again, differently: ${slot.summary}`);
      return;
    }
    this.violate("double-sign", from, `signed a second, different message for ${slot.name}: ${slot.summary}`);
  }

  // ---- after every event ---------------------------------------------------------------------

  /** Checks what only shows in a correct replica's state: the evidence it holds. Call after every event. */
  afterEvent(node: string, replica: Replica): void {
    const seen = this.evidenceSeen.get(replica) ?? 0;
    if (replica.evidence.length === seen) return;
    for (const evidence of replica.evidence.slice(seen)) this.onEvidence(node, evidence);
    this.evidenceSeen.set(replica, replica.evidence.length);
  }

  private onEvidence(node: string, evidence: Replica["evidence"][number]): void {
    let named;
    try {
      named = verifyEvidence(this.options.federation, evidence);
    } catch (error) {
      this.violate("replica-failure", node, `holds evidence that does not verify: ${(error as Error).message}`);
      return;
    }
    this.evidenceNamed.add(named.validator);
    const where = `${named.kind} at ${named.height}/${named.round}`;
    this.options.trace?.record(this.options.now(), node, `evidence against ${named.validator}: ${where}`);
    if (this.isCorrect(named.validator)) {
      const invariant = this.staleNodes.has(named.validator) ? "stale-equivocation" : "evidence-against-correct";
      this.violate(invariant, node, `holds evidence that ${named.validator} equivocated (${where})`);
    }
  }

  // ---- at the end ----------------------------------------------------------------------------

  /**
   * Reads back each correct replica's store: every batch with its certificate verifies against the
   * batch (from the federation file alone), every cosigned checkpoint verifies and matches its batch,
   * and the replica's consistency proofs between its successive checkpoints verify.
   */
  async checkStores(replicas: readonly { node: string; replica: Replica }[]): Promise<void> {
    for (const { node, replica } of replicas) {
      if (!this.isCorrect(node)) continue;
      try {
        await this.checkStore(node, replica);
      } catch (error) {
        this.violate("certificate", node, `reading back its store failed: ${(error as Error).message}`);
      }
    }
  }

  private async checkStore(node: string, replica: Replica): Promise<void> {
    const { store, tree } = replica.ledger;
    let previous: { size: bigint; root: Buffer } | undefined;
    for (let height = 1n; height <= replica.ledger.head.height; height++) {
      const committed = await store.readBatch(height);
      if (committed === undefined || committed.certificate === undefined) {
        this.violate("certificate", node, `its store lacks the batch or certificate of height ${height}`);
        return;
      }
      const id = createHash("sha256").update(committed.header).digest("hex");
      const record = this.batches.get(id);
      if (record === undefined) {
        this.violate("prefix", node, `its store holds ${height}/${short(id)}, which no correct replica committed`);
        return;
      }
      this.checkCertificate(node, committed.certificate, record);
      const size = record.batch.header.treeSize;
      const note = await store.readCheckpoint(size);
      if (note === undefined) {
        this.violate("certificate", node, `its store lacks the cosigned checkpoint of size ${size}`);
        return;
      }
      this.checkCheckpointNote(node, record.batch, note);
      const current = { size, root: Buffer.from(record.batch.header.root) };
      if (previous !== undefined && previous.size < current.size) {
        try {
          verifyConsistency(previous.size, current.size, previous.root, current.root, await tree.consistencyProof(previous.size, current.size));
        } catch (error) {
          this.violate("certificate", node, `its consistency proof from size ${previous.size} to ${current.size} does not verify: ${(error as Error).message}`);
        }
      }
      previous = current;
    }
  }

  private checkCertificate(node: string, certificate: CommitCertificate, record: BatchRecord): void {
    const key = `${record.id}/${createHash("sha256").update(JSON.stringify(certificateShape(certificate))).digest("hex")}`;
    if (this.verifiedCertificates.has(key)) return;
    try {
      verifyCommitCertificate(this.options.federation, certificate, record.batch);
      this.verifiedCertificates.add(key);
    } catch (error) {
      this.violate("certificate", node, `its certificate for height ${record.height} does not verify: ${(error as Error).message}`);
    }
  }
}

/** The first byte of an encoded PeerMessage holding a proposal (field 1) or a vote (field 2), both length-delimited. */
const PROPOSAL_TAG = 0x0a;
const VOTE_TAG = 0x12;

interface SignedSlot {
  readonly signer: string;
  /** "validator/height/round/kind". */
  readonly name: string;
  /** The signed bytes: what must not differ between two messages for one slot. */
  readonly content: Buffer;
  readonly summary: string;
}

/** What a peer message carries, or undefined for malformed bytes. */
export function peerMessageKind(bytes: Uint8Array): PeerMessage["kind"] {
  try {
    return PeerMessage.decode(bytes).kind;
  } catch {
    return undefined;
  }
}

/** The slot of a proposal or vote message, or undefined for anything else or malformed bytes. */
export function signedSlot(bytes: Uint8Array): SignedSlot | undefined {
  const kind = peerMessageKind(bytes);
  if (kind?.$case === "vote") {
    const vote = Vote.decode(kind.value.vote);
    const type = vote.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : vote.type === VoteType.VOTE_TYPE_PRECOMMIT ? "precommit" : `type${vote.type}`;
    const value = vote.valueId.length === 0 ? "nil" : short(Buffer.from(vote.valueId).toString("hex"));
    return { signer: vote.validator, name: `${vote.validator}/${vote.height}/${vote.round}/${type}`, content: Buffer.from(kind.value.vote), summary: `${type} ${value}` };
  }
  if (kind?.$case === "proposal" && kind.value.proposal !== undefined) {
    const proposal = Proposal.decode(kind.value.proposal.proposal);
    const summary = `proposal ${short(Buffer.from(proposal.valueId).toString("hex"))} vr ${proposal.validRound}`;
    return { signer: proposal.proposer, name: `${proposal.proposer}/${proposal.height}/${proposal.round}/proposal`, content: Buffer.from(kind.value.proposal.proposal), summary };
  }
  return undefined;
}

function certificateShape(certificate: CommitCertificate): unknown {
  return {
    height: String(certificate.height),
    round: certificate.round,
    precommits: certificate.precommits.map((vote) => [Buffer.from(vote.vote).toString("base64"), Buffer.from(vote.signature).toString("base64")]),
  };
}

export function short(hex: string): string {
  return hex === "" ? "genesis" : hex.slice(0, 8);
}
