import { assert } from "../assert";
import { HashfedError, invalid, locate, locating } from "../errors";
import type { Signer } from "../crypto/signer";
import { checkLabels, type Federation, type Member } from "../federation";
import type { AssembledBatch, BatchEntry } from "../batch";
import type { Acknowledgement, RetractInput, SignalInput, SignedSubmission, Submission, SubmitResponse } from "../gen/hashfed/v1/member";
import type { Reveal } from "../gen/hashfed/v1/statement";
import { checkPdqHash, checkPdqQuality, SALT_BYTES, signalType } from "../signals";
import {
  checkStatementReveal,
  checkStatementRules,
  buildAddSignal,
  buildRetract,
  type BuiltStatement,
  NONCE_BYTES,
  parseSignedStatement,
  parseStatementId,
  RETRACT_REASONS,
  STATEMENT_ID_BYTES,
  type StatementContext,
  signatureInvalid,
  statementIdKey,
  trustedSignedStatement,
  type StatementId,
} from "../statements";
import type { Clock, Entropy } from "./environment";
import type { Ledger } from "../ledger/ledger";
import type { Replica } from "../replica/replica";
import type { Ed25519Pool } from "./ed25519Pool";

export interface IntakeModules {
  readonly federation: Federation;
  readonly signer: Signer;
  /** Signs the statements the node makes for its member and checks those signed elsewhere, off the event loop. */
  readonly ed25519Pool: Ed25519Pool;
  readonly clock: Clock;
  readonly entropy: Entropy;
  /** Where statements go: the replica gossips them and commits them by consensus. */
  readonly replica: Replica;
}

/**
 * What a statement the node signs for its member does, so that asking twice for the same thing
 * finds the first statement instead of signing a second: `key` names it, `done` finds the log index
 * of a committed statement that already does it.
 */
interface OwnIntent {
  readonly key: string;
  done(): number | undefined;
}

/** A statement the node will sign for the member: its bytes, its reveal, and what it does. */
interface Draft {
  readonly kind: "draft";
  readonly built: BuiltStatement;
  readonly reveal: Reveal | undefined;
  readonly intent: OwnIntent;
}

/** A statement the member signed elsewhere, parsed and checked but for its signature. */
interface Unverified {
  readonly kind: "unverified";
  readonly entry: BatchEntry;
  readonly member: Member;
}

/** What an admitted submission came to: the entry that acknowledges it. */
interface Outcome {
  readonly id: StatementId;
  readonly logIndex: number;
  readonly alreadyPresent: boolean;
}

/** What a submission turned into before admission. */
type Prepared =
  | { readonly kind: "new"; readonly entry: BatchEntry; readonly intent: OwnIntent | undefined }
  | { readonly kind: "same"; readonly id: StatementId; readonly intent?: OwnIntent }
  | { readonly kind: "committed"; readonly id: StatementId; readonly logIndex: number };

/** The log's refusals that mean an own intent is already done by a committed entry. */
const DONE_ALREADY = new Set(["SIGNAL_ALREADY_LIVE", "RETRACT_TWICE"]);

/**
 * The Member service's submit path: turns a member's submissions into signed statements, checks
 * all of them before admitting any, and answers once all are committed, with proofs against one
 * cosigned checkpoint.
 *
 * Idempotency: the same statement bytes map to the same entry; and the node's own signing is
 * idempotent by meaning: adding a signal this member already has live (or pending), or retracting
 * an entry already retracted, acknowledges the existing statement instead of signing a new one. An
 * add whose live entry is being retracted (in the same request, or by a pending retraction) is a
 * new statement: its member is replacing the entry.
 */
export class SubmissionIntake {
  /** Own statements signed here and not yet committed, by what they do (signal or retraction target). */
  private readonly ownPending = new Map<string, StatementId>();
  /** The same, from statement id (statementIdKey) back to what it does. */
  private readonly ownPendingById = new Map<string, string>();

  private readonly ledger: Ledger;

  constructor(private readonly modules: IntakeModules) {
    this.ledger = modules.replica.ledger;
    this.ledger.onCommit((batch) => this.forgetOwn(batch));
    modules.replica.onRejected((entry) => this.forgetOwnId(entry.signed.key));
  }

  /** `abandoned` aborts when the client stops waiting (cancelled, or past its deadline). */
  async submit(submissions: readonly Submission[], abandoned?: AbortSignal): Promise<SubmitResponse> {
    const { federation } = this.modules;
    const { ledger } = this;
    if (submissions.length === 0) throw invalid("SUBMIT_EMPTY", "a submit request holds at least one submission");
    const max = federation.parameters.submissionsPerRequestMax;
    if (submissions.length > max) {
      throw invalid("SUBMIT_TOO_MANY", `a submit request holds at most ${max} submissions, got ${submissions.length}; split it`);
    }
    const retracting = retractionTargets(submissions);
    const drafted = submissions.map((submission, i) => locating(`submissions[${i}]`, () => this.prepare(submission, retracting)));
    const outcomes = await Promise.all(this.admit(await this.signAndVerify(drafted), abandoned));
    const treeSize = ledger.treeSize;
    const checkpoint = ledger.checkpoint!;
    const proofs = await ledger.tree.inclusionProofs(outcomes.map((outcome) => BigInt(outcome.logIndex)), treeSize);
    const acknowledgements: Acknowledgement[] = outcomes.map((outcome, i) => ({
      statementId: outcome.id,
      logIndex: BigInt(outcome.logIndex),
      alreadyPresent: outcome.alreadyPresent,
      inclusionProof: proofs[i]!,
    }));
    return { acknowledgements, checkpoint };
  }

  /** Signs all drafts of a request and checks all signatures made elsewhere, one worker-pool call each. */
  private async signAndVerify(items: readonly (Prepared | Draft | Unverified)[]): Promise<Prepared[]> {
    const drafts = items.filter((item): item is Draft => item.kind === "draft");
    const unverified = items.filter((item): item is Unverified => item.kind === "unverified");
    const [signatures, valid] = await Promise.all([
      this.modules.ed25519Pool.sign("statement", drafts.map((draft) => draft.built.bytes)),
      this.modules.ed25519Pool.verify("statement", unverified.map(({ entry, member }) => ({ key: member.key, bytes: entry.signed.bytes, signature: entry.signed.signature }))),
    ]);
    let signature = 0;
    let check = 0;
    return items.map((item, position): Prepared => {
      if (item.kind === "unverified") {
        if (!valid[check++]) throw locate(`submissions[${position}]`, signatureInvalid(item.member));
        return { kind: "new", entry: item.entry, intent: undefined };
      }
      if (item.kind !== "draft") return item;
      const signed = trustedSignedStatement(item.built.bytes, signatures[signature++]!, undefined, item.built.statement);
      return { kind: "new", entry: { signed, reveal: item.reveal }, intent: item.intent };
    });
  }

  /**
   * Decides, against the log and the mempool as they stand now, what each item waits for, checks the
   * new ones against the log's rules, and admits them. Synchronous from the first check to the last
   * registration, so no commit can slip between "not yet committed" and waiting for it, and two
   * requests for the same thing cannot both sign it onto the log.
   */
  private admit(prepared: readonly Prepared[], abandoned: AbortSignal | undefined): Promise<Outcome>[] {
    const { replica, signer } = this.modules;
    const settled = this.settle(prepared);
    const draft = this.ledger.state.draft("this request");
    const fresh = settled.flatMap((item, position) => (item.kind === "new" ? [{ item, position }] : []));
    for (const { item, position } of fresh) locating(`submissions[${position}]`, () => draft.check(item.entry.signed));
    replica.mempool.checkRoom(signer.name, fresh.length);
    for (const { item } of fresh) {
      if (item.intent === undefined) continue;
      this.ownPending.set(item.intent.key, item.entry.signed.id);
      this.ownPendingById.set(item.entry.signed.key, item.intent.key);
    }
    const submitted = replica.submit(fresh.map(({ item }) => item.entry), abandoned);
    // A statement repeated in the request waits on its first copy: the replica may have refused that
    // one already (a signal its member has live), and then it is not pending.
    const freshWaits = new Map(fresh.map(({ item }, index) => [item.entry.signed.key, submitted[index]!]));
    return settled.map((item) => {
      if (item.kind === "committed") return Promise.resolve({ id: item.id, logIndex: item.logIndex, alreadyPresent: true });
      const id = item.kind === "new" ? item.entry.signed.id : item.id;
      const key = item.kind === "new" ? item.entry.signed.key : statementIdKey(id);
      const inRequest = freshWaits.get(key);
      if (inRequest === undefined) assert(replica.mempool.has(key), "a request waits only for statements pending now");
      const wait = inRequest ?? replica.waiters.wait(id, abandoned);
      return wait.then(
        (logIndex) => ({ id, logIndex, alreadyPresent: false }),
        (error: unknown) => this.existingInstead(item.intent, error),
      );
    });
  }

  /**
   * A statement left out because what it does was done already (its member's signal live, or the
   * entry retracted, by a statement the node forgot in a crash or one signed elsewhere, and its
   * member asked again) is acknowledged by the entry already there.
   */
  private existingInstead(intent: OwnIntent | undefined, error: unknown): Outcome {
    const done = error instanceof HashfedError && DONE_ALREADY.has(error.code) ? intent?.done() : undefined;
    if (done === undefined) throw error;
    return { id: this.ledger.state.statementIdAt(done), logIndex: done, alreadyPresent: true };
  }

  /** Turns each new item that is already committed, pending, or earlier in the request into a reference to it. */
  private settle(prepared: readonly Prepared[]): Prepared[] {
    const { ledger } = this;
    const { mempool } = this.modules.replica;
    const inRequest = new Map<string, StatementId>();
    return prepared.map((item): Prepared => {
      if (item.kind !== "new") return item;
      const id = item.entry.signed.id;
      const committed = ledger.indexOf(id) ?? item.intent?.done();
      if (committed !== undefined) return { kind: "committed", id: ledger.state.statementIdAt(committed), logIndex: committed };
      const pending = item.intent === undefined ? undefined : this.ownPending.get(item.intent.key);
      if (pending !== undefined) return { kind: "same", id: pending, intent: item.intent };
      if (mempool.has(item.entry.signed.key)) return { kind: "same", id };
      const key = item.intent?.key ?? item.entry.signed.key;
      const earlier = inRequest.get(key);
      if (earlier !== undefined) return { kind: "same", id: earlier, intent: item.intent };
      inRequest.set(key, id);
      return item;
    });
  }

  /** `retracting`: the targets (statementIdKey) of the request's retractions. */
  private prepare(submission: Submission, retracting: ReadonlySet<string>): Prepared | Draft | Unverified {
    const kind = submission.kind;
    if (kind === undefined) throw invalid("SUBMISSION_EMPTY", "a submission sets one of add, retract or signed");
    switch (kind.$case) {
      case "add":
        return this.prepareAdd(kind.value, retracting);
      case "retract":
        return this.prepareRetract(kind.value);
      case "signed":
        return this.prepareSigned(kind.value);
    }
  }

  /**
   * A draft for an intent, unless a committed statement already does it (that cannot change). A
   * pending one is looked for only at admission, synchronously: it may commit while this draft is
   * being signed.
   */
  private draftFor(intent: OwnIntent, encode: () => { built: BuiltStatement; reveal: Reveal | undefined }): Prepared | Draft {
    const done = intent.done();
    if (done !== undefined) return { kind: "committed", id: this.ledger.state.statementIdAt(done), logIndex: done };
    return { kind: "draft", ...encode(), intent };
  }

  /**
   * An add is done already when its member has the signal live, unless that entry is being
   * retracted (by this request or a pending statement): the add then waits for the retraction.
   */
  private prepareAdd(input: SignalInput, retracting: ReadonlySet<string>): Prepared | Draft {
    const { federation, signer, entropy, replica } = this.modules;
    const { ledger } = this;
    const type = signalType(input.signalType);
    const value = type.parse(input.value);
    // Checked as sent, so that an error names the label's place in the client's list.
    checkLabels(federation, input.labels, federation.taxonomy.version);
    const labels = [...input.labels].sort();
    if (type.name === "pdq") {
      checkPdqHash(value);
      checkPdqQuality(input.quality, federation.parameters.pdqQualityMin);
    }
    const intent: OwnIntent = {
      key: `add:${type.name}:${value.toString("hex")}`,
      done: () => {
        const live = ledger.index.match(type.name, value, 0).find((hit) => ledger.state.submitterAt(hit.logIndex) === signer.name)?.logIndex;
        if (live === undefined) return undefined;
        const id = ledger.state.statementIdAt(live);
        return retracting.has(statementIdKey(id)) || replica.mempool.retracts(id, signer.name) ? undefined : live;
      },
    };
    return this.draftFor(intent, () => {
      const salt = entropy.randomBytes(SALT_BYTES);
      const draft = { signalType: type.name, value, labels, taxonomyVersion: federation.taxonomy.version, quality: input.quality, salt };
      return { built: buildAddSignal(this.context(), draft), reveal: { salt, value } };
    });
  }

  private prepareRetract(input: RetractInput): Prepared | Draft {
    const { signer, replica } = this.modules;
    const { ledger } = this;
    const { mempool } = replica;
    const target = parseStatementId(input.target, "retract.target");
    if (!RETRACT_REASONS.has(input.reason)) {
      throw invalid("RETRACT_REASON_MISSING", "a retraction needs a reason: false-positive, out-of-taxonomy, appeal-upheld, duplicate or other");
    }
    const index = ledger.indexOf(target);
    if (index === undefined) {
      const why = mempool.has(statementIdKey(target)) ? "it is not committed yet; retry once it is" : "no entry on the log has this statement id";
      throw new HashfedError("not-found", "RETRACT_TARGET_UNKNOWN", `cannot retract ${target.toString("hex")}: ${why}`);
    }
    // Another member's entry is refused later, by the log's rules, with their message.
    const own = ledger.state.submitterAt(index) === signer.name;
    const intent: OwnIntent = { key: `retract:${target.toString("hex")}`, done: () => (own ? ledger.state.retractedBy(index) : undefined) };
    return this.draftFor(intent, () => ({ built: buildRetract(this.context(), target, input.reason), reveal: undefined }));
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

  private context(): StatementContext {
    const { federation, signer, clock, entropy } = this.modules;
    return { federationId: federation.id, submitter: signer.name, createdAtMs: clock.nowMs(), nonce: entropy.randomBytes(NONCE_BYTES) };
  }

  private forgetOwn(batch: AssembledBatch): void {
    for (const entry of batch.entries) this.forgetOwnId(entry.signed.key);
  }

  /** `key`: the statementIdKey of an own statement that committed or was refused. */
  private forgetOwnId(key: string): void {
    const what = this.ownPendingById.get(key);
    if (what === undefined) return;
    this.ownPendingById.delete(key);
    this.ownPending.delete(what);
  }
}

/**
 * The entries a request's retractions withdraw (statementIdKey), read without checking anything:
 * an add of a signal whose live entry the same request retracts is a new statement (its member
 * replacing the entry, to change its labels, say), not that entry. Each submission is checked in
 * its turn, in order, so the first bad one is the one reported.
 */
function retractionTargets(submissions: readonly Submission[]): Set<string> {
  const targets = new Set<string>();
  for (const { kind } of submissions) {
    if (kind?.$case === "retract" && kind.value.target.length === STATEMENT_ID_BYTES) targets.add(statementIdKey(kind.value.target));
    if (kind?.$case !== "signed" || kind.value.entry === undefined) continue;
    try {
      const body = parseSignedStatement(kind.value.entry.statement, kind.value.entry.signature).statement.body!;
      if (body.$case === "retract") targets.add(statementIdKey(body.value.target));
    } catch {
      // Reported when the submission is checked.
    }
  }
  return targets;
}
