import { assert } from "../assert";
import { HashfedError } from "../errors";
import { statementIdKey, type SignedStatement, type StatementId, STATEMENT_ID_BYTES } from "../statements";
import { FixedKeyTable, GrowableUint32Array, type HashSeed } from "../table";

const KIND_ADD = 0;
const KIND_RETRACT = 1;
/** Marks an entry in the retractedBy column as not retracted. */
const NOT_RETRACTED = 0xffff_ffff;

/**
 * What the committed log says, as far as deciding the next statement needs: which statement ids are
 * on the log and where, who submitted each entry, what kind it is, and which entries were
 * retracted. A deterministic function of the entries appended, in order; no I/O.
 *
 * Columns are typed arrays indexed by log index, so a million entries cost megabytes, not objects.
 * Log indexes are numbers here: a node holds at most 2^32 entries in memory.
 */
export class LogState {
  private readonly indexById: FixedKeyTable;
  private readonly submitterNames: string[] = [];
  private readonly submitterNumbers = new Map<string, number>();
  private readonly submitterColumn = new GrowableUint32Array();
  private readonly kindColumn = new GrowableUint32Array();
  private readonly retractedByColumn = new GrowableUint32Array();
  private retractionCount = 0;

  /** `seed` keys the id table's hash (see FixedKeyTable); a node passes a secret random one. */
  constructor(seed: HashSeed = [0, 0]) {
    this.indexById = new FixedKeyTable(STATEMENT_ID_BYTES, seed);
  }

  get size(): number {
    return this.kindColumn.length;
  }

  /** Makes room for `count` entries in all, before a replay of known size. */
  reserve(count: number): void {
    this.indexById.reserve(count);
  }

  get retractions(): number {
    return this.retractionCount;
  }

  /** Entries that add a signal and have not been retracted. */
  get liveSignals(): number {
    return this.size - 2 * this.retractionCount;
  }

  indexOf(id: Uint8Array): number | undefined {
    return this.indexById.first(id);
  }

  /** The statement id of the entry at `index`. */
  statementIdAt(index: number): StatementId {
    return Buffer.from(this.indexById.keyAt(index)) as StatementId;
  }

  submitterAt(index: number): string {
    return this.submitterNames[this.submitterColumn.at(index)]!;
  }

  isRetraction(index: number): boolean {
    return this.kindColumn.at(index) === KIND_RETRACT;
  }

  /** The log index of the retraction that withdrew entry `index`, if any. */
  retractedBy(index: number): number | undefined {
    const by = this.retractedByColumn.at(index);
    return by === NOT_RETRACTED ? undefined : by;
  }

  /**
   * Starts checking a run of statements to append after the committed log (see LogDraft); `scope`
   * names that run in its errors ("earlier in this batch").
   */
  draft(scope = "this batch"): LogDraft {
    return new LogDraft(this, scope);
  }

  /** Appends a statement that LogDraft.check accepted, in log order. */
  append(signed: SignedStatement): void {
    const body = signed.statement.body!;
    const target = body.$case === "retract" ? this.indexOf(body.value.target) : undefined;
    assert(body.$case === "addSignal" || target !== undefined, "a retraction targets an entry on the log");
    this.appendCommitted(signed.id, signed.statement.submitter, target);
  }

  /**
   * Appends what the state keeps of one committed entry: its statement id, its submitter, and for a
   * retraction the log index it withdraws. A start-up replay calls this from batch summaries
   * without decoding statements.
   */
  appendCommitted(id: Uint8Array, submitter: string, retractionTarget: number | undefined): void {
    const index = this.size;
    assert(index < NOT_RETRACTED, "a node holds fewer than 2^32 - 1 entries in memory");
    const added = this.indexById.insertIfAbsent(id, index);
    assert(added, "a statement id appears once in the log");
    this.submitterColumn.push(this.submitterNumber(submitter));
    this.retractedByColumn.push(NOT_RETRACTED);
    if (retractionTarget === undefined) {
      this.kindColumn.push(KIND_ADD);
      return;
    }
    this.kindColumn.push(KIND_RETRACT);
    assert(retractionTarget < index && this.retractedBy(retractionTarget) === undefined, "a retraction targets a live entry");
    this.retractedByColumn.set(retractionTarget, index);
    this.retractionCount++;
  }

  private submitterNumber(name: string): number {
    let number = this.submitterNumbers.get(name);
    if (number === undefined) {
      number = this.submitterNames.length;
      this.submitterNames.push(name);
      this.submitterNumbers.set(name, number);
    }
    return number;
  }
}

/**
 * Checks statements one after another as if each were appended after the committed log and the
 * ones accepted before it, without changing the LogState. Used to build a batch and to validate a
 * proposed one: the same rules either way.
 */
export class LogDraft {
  private readonly addedIds = new Map<string, SignedStatement>();
  private readonly retractedIds = new Set<string>();
  private count = 0;

  constructor(
    private readonly state: LogState,
    private readonly scope: string,
  ) {}

  get size(): number {
    return this.count;
  }

  /**
   * Whether `signed` would break a rule only because of a statement this draft took: it repeats one,
   * or retracts an entry one of them retracted. Were the draft's statements not to commit, it might.
   */
  clashesWithDraft(signed: SignedStatement): boolean {
    const body = signed.statement.body!;
    if (this.addedIds.has(signed.key)) return this.state.indexOf(signed.id) === undefined;
    return body.$case === "retract" && this.retractedIds.has(statementIdKey(body.value.target as StatementId));
  }

  /** Throws a HashfedError naming the rule broken; on success the statement counts as appended. */
  check(signed: SignedStatement): void {
    const key = signed.key;
    const committedIndex = this.state.indexOf(signed.id);
    if (committedIndex !== undefined || this.addedIds.has(key)) {
      const where = committedIndex !== undefined ? `at log index ${committedIndex}` : `earlier in ${this.scope}`;
      throw new HashfedError("exists", "STATEMENT_DUPLICATE", `statement ${signed.id.toString("hex")} is already on the log ${where}`);
    }
    const body = signed.statement.body!;
    if (body.$case === "retract") this.checkRetraction(signed.statement.submitter, body.value.target as StatementId);
    this.addedIds.set(key, signed);
    this.count++;
  }

  private checkRetraction(submitter: string, target: StatementId): void {
    const targetKey = statementIdKey(target);
    const targetHex = target.toString("hex");
    const index = this.state.indexOf(target);
    const inDraft = this.addedIds.get(targetKey);
    if (index === undefined && inDraft === undefined) {
      throw new HashfedError("not-found", "RETRACT_TARGET_UNKNOWN", `no entry on the log has statement id ${targetHex}`);
    }
    const targetSubmitter = index !== undefined ? this.state.submitterAt(index) : inDraft!.statement.submitter;
    const targetIsRetraction = index !== undefined ? this.state.isRetraction(index) : inDraft!.statement.body!.$case === "retract";
    if (targetIsRetraction) {
      throw new HashfedError("precondition", "RETRACT_TARGET_NOT_SIGNAL", `statement ${targetHex} is a retraction; only an added signal can be retracted`);
    }
    if (targetSubmitter !== submitter) {
      throw new HashfedError(
        "forbidden",
        "RETRACT_NOT_OWNER",
        `statement ${targetHex} was submitted by ${targetSubmitter}; ${submitter} can only retract its own entries`,
      );
    }
    const retractedAt = index !== undefined ? this.state.retractedBy(index) : undefined;
    if (retractedAt !== undefined || this.retractedIds.has(targetKey)) {
      const where = retractedAt !== undefined ? `by the entry at log index ${retractedAt}` : `earlier in ${this.scope}`;
      throw new HashfedError("precondition", "RETRACT_TWICE", `statement ${targetHex} was already retracted ${where}`);
    }
    this.retractedIds.add(targetKey);
  }
}
