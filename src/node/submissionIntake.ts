import { HashfedError, invalid, locate, locating } from "../errors";
import type { Signer } from "../crypto/signer";
import { checkLabels, type Federation, type Member } from "../federation";
import type { AssembledBatch, BatchEntry } from "../batch";
import type { Acknowledgement, RetractInput, SignalInput, SignedSubmission, Submission, SubmitResponse } from "../gen/hashfed/v1/member";
import { RetractReason, type Reveal } from "../gen/hashfed/v1/statement";
import { checkPdqHash, checkPdqQuality, SALT_BYTES, type SignalTypeName, signalType } from "../signals";
import {
  checkStatementReveal,
  checkStatementRules,
  encodeAddSignal,
  encodeRetract,
  NONCE_BYTES,
  parseSignedStatement,
  parseStatementId,
  parseStoredLogEntry,
  type StatementContext,
  signatureInvalid,
  statementIdKey,
  trustedSignedStatement,
  type StatementId,
} from "../statements";
import type { CommitWaiters } from "./commitWaiters";
import type { Clock, Entropy } from "./environment";
import type { Ledger } from "./ledger";
import type { Mempool } from "./mempool";
import type { Ed25519Pool } from "./ed25519Pool";

export interface IntakeModules {
  readonly federation: Federation;
  readonly signer: Signer;
  /** Signs the statements the node makes for its member and checks those signed elsewhere, off the event loop. */
  readonly ed25519Pool: Ed25519Pool;
  readonly clock: Clock;
  readonly entropy: Entropy;
  readonly ledger: Ledger;
  readonly mempool: Mempool;
  readonly waiters: CommitWaiters;
  /** Called after new statements enter the mempool. */
  readonly onAdmitted: () => void;
}

/** A statement the node will sign for the member: its bytes, its reveal, and what it does. */
interface Draft {
  readonly kind: "draft";
  readonly bytes: Buffer;
  readonly reveal: Reveal | undefined;
  readonly ownKey: string;
}

/** A statement the member signed elsewhere, parsed and checked but for its signature. */
interface Unverified {
  readonly kind: "unverified";
  readonly entry: BatchEntry;
  readonly member: Member;
}

/** What a submission turned into before admission. */
type Prepared =
  | { readonly kind: "new"; readonly entry: BatchEntry; readonly ownKey: string | undefined }
  | { readonly kind: "same"; readonly id: StatementId }
  | { readonly kind: "committed"; readonly id: StatementId; readonly logIndex: number };

/**
 * The Member service's submit path: turns a member's submissions into signed statements, checks
 * all of them before admitting any, and answers once all are committed, with proofs against one
 * cosigned checkpoint.
 *
 * Idempotency: the same statement bytes map to the same entry; and the node's own signing is
 * idempotent by meaning: adding a signal this member already has live (or pending), or retracting
 * an entry already retracted, acknowledges the existing statement instead of signing a new one.
 */
export class SubmissionIntake {
  /** Own statements signed here and not yet committed, by what they do (signal or retraction target). */
  private readonly ownPending = new Map<string, StatementId>();
  /** The same, from statement id (statementIdKey) back to what it does. */
  private readonly ownPendingById = new Map<string, string>();

  constructor(private readonly modules: IntakeModules) {
    modules.ledger.onCommit((batch) => this.forgetOwn(batch));
  }

  async submit(submissions: readonly Submission[]): Promise<SubmitResponse> {
    const { federation, ledger } = this.modules;
    if (submissions.length === 0) throw invalid("SUBMIT_EMPTY", "a submit request holds at least one submission");
    const max = federation.parameters.submissionsPerRequestMax;
    if (submissions.length > max) {
      throw invalid("SUBMIT_TOO_MANY", `a submit request holds at most ${max} submissions, got ${submissions.length}; split it`);
    }
    const drafted: (Prepared | Draft | Unverified)[] = [];
    for (const [i, submission] of submissions.entries()) drafted.push(await locating(`submissions[${i}]`, () => this.prepare(submission)));
    const prepared = await this.signAndVerify(drafted);
    const indexes = await Promise.all(this.admit(prepared));
    const treeSize = ledger.treeSize;
    const checkpoint = ledger.checkpoint!;
    const proofs = await ledger.tree.inclusionProofs(indexes.map(BigInt), treeSize);
    const acknowledgements: Acknowledgement[] = prepared.map((item, i) => ({
      statementId: item.kind === "new" ? item.entry.signed.id : item.id,
      logIndex: BigInt(indexes[i]!),
      alreadyPresent: item.kind === "committed",
      inclusionProof: proofs[i]!,
    }));
    return { acknowledgements, checkpoint };
  }

  /**
   * Signs all drafts of a request and checks all signatures made elsewhere, in one call each to the
   * worker pool. A draft that does what an earlier one in the same request does (the same signal
   * twice) becomes a reference to it.
   */
  private async signAndVerify(items: readonly (Prepared | Draft | Unverified)[]): Promise<Prepared[]> {
    const { ed25519Pool, ledger } = this.modules;
    const drafts = items.filter((item): item is Draft => item.kind === "draft");
    const unverified = items.filter((item): item is Unverified => item.kind === "unverified");
    const [signatures, valid] = await Promise.all([
      ed25519Pool.sign("statement", drafts.map((draft) => draft.bytes)),
      ed25519Pool.verify("statement", unverified.map(({ entry, member }) => ({ key: member.key, bytes: entry.signed.bytes, signature: entry.signed.signature }))),
    ]);
    const firstByKey = new Map<string, StatementId>();
    let signature = 0;
    let check = 0;
    return items.map((item, position) => {
      if (item.kind === "unverified") {
        if (!valid[check++]) throw locate(`submissions[${position}]`, signatureInvalid(item.member));
        const committed = ledger.indexOf(item.entry.signed.id);
        return committed === undefined ? { kind: "new", entry: item.entry, ownKey: undefined } : { kind: "committed", id: item.entry.signed.id, logIndex: committed };
      }
      if (item.kind !== "draft") return item;
      const signed = trustedSignedStatement(item.bytes, signatures[signature++]!);
      const earlier = firstByKey.get(item.ownKey);
      if (earlier !== undefined) return { kind: "same", id: earlier };
      firstByKey.set(item.ownKey, signed.id);
      return { kind: "new", entry: { signed, reveal: item.reveal }, ownKey: item.ownKey };
    });
  }

  /** Rejections decided when a batch was built (a rule broken by an earlier statement). */
  rejected(entry: BatchEntry, error: HashfedError): void {
    this.forgetOwnId(entry.signed.id);
    this.modules.waiters.rejected(entry.signed.id, error);
  }

  /**
   * Synchronous from the first check to the last registration, so no commit can slip between
   * "not yet committed" and waiting for it.
   */
  private admit(prepared: readonly Prepared[]): Promise<number>[] {
    const { ledger, mempool, waiters, signer } = this.modules;
    const draft = ledger.state.draft();
    const fresh = prepared.filter((item) => item.kind === "new" && ledger.indexOf(item.entry.signed.id) === undefined && !mempool.has(item.entry.signed.id));
    fresh.forEach((item) => locating(`submissions[${prepared.indexOf(item)}]`, () => item.kind === "new" && draft.check(item.entry.signed)));
    mempool.checkRoom(signer.name, fresh.length);
    const waits = prepared.map((item) => {
      const id = item.kind === "new" ? item.entry.signed.id : item.id;
      const committedIndex = item.kind === "committed" ? item.logIndex : ledger.indexOf(id);
      if (committedIndex !== undefined) return Promise.resolve(committedIndex);
      if (item.kind === "new" && mempool.add(item.entry) && item.ownKey !== undefined) {
        this.ownPending.set(item.ownKey, id);
        this.ownPendingById.set(statementIdKey(id), item.ownKey);
      }
      return waiters.wait(id);
    });
    if (fresh.length > 0) this.modules.onAdmitted();
    return waits;
  }

  private prepare(submission: Submission): Promise<Prepared | Draft | Unverified> {
    const kind = submission.kind;
    if (kind === undefined) throw invalid("SUBMISSION_EMPTY", "a submission sets one of add, retract or signed");
    switch (kind.$case) {
      case "add":
        return this.prepareAdd(kind.value);
      case "retract":
        return this.prepareRetract(kind.value);
      case "signed":
        return Promise.resolve(this.prepareSigned(kind.value));
    }
  }

  private async prepareAdd(input: SignalInput): Promise<Prepared | Draft> {
    const { federation, ledger, signer, entropy } = this.modules;
    const type = signalType(input.signalType);
    const value = type.parse(input.value);
    const labels = [...input.labels].sort();
    checkLabels(federation, labels, federation.taxonomy.version);
    if (type.name === "pdq") {
      checkPdqHash(value);
      checkPdqQuality(input.quality, federation.parameters.pdqQualityMin);
    }
    const ownKey = `add:${type.name}:${value.toString("hex")}`;
    const pending = this.ownPending.get(ownKey);
    if (pending !== undefined) return { kind: "same", id: pending };
    for (const hit of ledger.index.match(type.name, value, 0)) {
      if (ledger.state.submitterAt(hit.logIndex) === signer.name) return this.committedAt(hit.logIndex);
    }
    const salt = entropy.randomBytes(SALT_BYTES);
    const bytes = encodeAddSignal(this.context(), {
      signalType: type.name as SignalTypeName,
      value,
      labels,
      taxonomyVersion: federation.taxonomy.version,
      quality: input.quality,
      salt,
    });
    return { kind: "draft", bytes, reveal: { salt, value }, ownKey };
  }

  private async prepareRetract(input: RetractInput): Promise<Prepared | Draft> {
    const { ledger, signer, mempool } = this.modules;
    const target = parseStatementId(input.target, "retract.target");
    if (input.reason === RetractReason.RETRACT_REASON_UNSPECIFIED || RetractReason[input.reason] === undefined) {
      throw invalid("RETRACT_REASON_MISSING", "a retraction needs a reason: false-positive, out-of-taxonomy, appeal-upheld, duplicate or other");
    }
    const ownKey = `retract:${target.toString("hex")}`;
    const pending = this.ownPending.get(ownKey);
    if (pending !== undefined) return { kind: "same", id: pending };
    const index = ledger.indexOf(target);
    if (index === undefined) {
      const why = mempool.has(target) ? "it is not committed yet; retry once it is" : "no entry on the log has this statement id";
      throw new HashfedError("not-found", "RETRACT_TARGET_UNKNOWN", `cannot retract ${target.toString("hex")}: ${why}`);
    }
    const retractedBy = ledger.state.retractedBy(index);
    if (retractedBy !== undefined && ledger.state.submitterAt(index) === signer.name) return this.committedAt(retractedBy);
    return { kind: "draft", bytes: encodeRetract(this.context(), target, input.reason), reveal: undefined, ownKey };
  }

  private prepareSigned(input: SignedSubmission): Unverified {
    const { federation, signer } = this.modules;
    if (input.entry === undefined) throw invalid("SUBMISSION_MALFORMED", "a signed submission carries the log entry (statement and signature)");
    const signed = parseSignedStatement(input.entry.statement, input.entry.signature);
    const member = checkStatementRules(federation, signed);
    if (member.name !== signer.name) {
      throw new HashfedError(
        "forbidden",
        "FOREIGN_SUBMITTER",
        `this node submits statements of ${signer.name}; a statement by ${member.name} enters the federation at ${member.name}'s node`,
      );
    }
    checkStatementReveal(signed, input.reveal);
    const reveal = signed.statement.body!.$case === "addSignal" ? input.reveal : undefined;
    return { kind: "unverified", entry: { signed, reveal }, member };
  }

  private async committedAt(logIndex: number): Promise<Prepared> {
    const stored = await this.modules.ledger.store.readEntry(BigInt(logIndex));
    return { kind: "committed", id: parseStoredLogEntry(stored!.entryBytes).id, logIndex };
  }

  private context(): StatementContext {
    const { federation, signer, clock, entropy } = this.modules;
    return { federationId: federation.id, submitter: signer.name, createdAtMs: clock.nowMs(), nonce: entropy.randomBytes(NONCE_BYTES) };
  }

  private forgetOwn(batch: AssembledBatch): void {
    for (const entry of batch.entries) this.forgetOwnId(entry.signed.id);
  }

  private forgetOwnId(id: StatementId): void {
    const key = statementIdKey(id);
    const what = this.ownPendingById.get(key);
    if (what === undefined) return;
    this.ownPendingById.delete(key);
    this.ownPending.delete(what);
  }
}
