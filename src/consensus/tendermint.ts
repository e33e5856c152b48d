import { assert, assertNever } from "../assert";
import { proposerOf } from "./proposer";
import { type Height, type Round, Step, type TimeoutConfig, type TimeoutKind, timeoutMs, type ValueId, type VoteKind } from "./types";
import { type CountedVote, VoteKeeper } from "./voteKeeper";

/**
 * Tendermint, Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic), for
 * one validator, as a deterministic state machine: inputs in, outputs out, no clock, randomness or
 * I/O. Comments name the paper's lines (L22...). The errata of reference/consensus.md §1.4 are
 * handled where they apply (E1...E6). `P` is the shell's signed message, carried opaquely so that
 * decisions come with their certificate and equivocations with their evidence.
 */

export interface ConsensusConfig {
  /** This validator's name. */
  readonly self: string;
  /** Every validator's name, sorted: the proposer of (h, r) is validators[(h + r) mod n]. */
  readonly validators: readonly string[];
  readonly quorum: number;
  readonly roundSkip: number;
  readonly timeouts: TimeoutConfig;
}

export interface ProposalInput<P> {
  readonly round: Round;
  readonly valueId: ValueId;
  /** -1 when the proposer saw no polka for the value. */
  readonly validRound: Round;
  readonly proposer: string;
  readonly payload: P;
}

export type ConsensusInput<P> =
  /** Begin a height; `hasWork` says whether statements are waiting to be committed. */
  | { readonly kind: "startHeight"; readonly height: Height; readonly hasWork: boolean }
  /** Statements are waiting: a height that was idle starts its clock. */
  | { readonly kind: "work" }
  /** A proposal for the current height, its signature checked by the shell. */
  | { readonly kind: "proposal"; readonly proposal: ProposalInput<P> }
  /** valid(v), computed by the shell for a value the core asked about (checkValue). */
  | { readonly kind: "valueChecked"; readonly valueId: ValueId; readonly valid: boolean }
  /** A vote for the current height, its signature checked by the shell; the node's own votes come back this way. */
  | { readonly kind: "vote"; readonly vote: CountedVote<P> }
  | { readonly kind: "timeout"; readonly timeout: TimeoutKind; readonly height: Height; readonly round: Round }
  /** The value this node proposes, in answer to needValue. */
  | { readonly kind: "valueReady"; readonly height: Height; readonly round: Round; readonly valueId: ValueId }
  /** The height was decided elsewhere: the shell verified a commit certificate and committed the batch. */
  | { readonly kind: "synced"; readonly height: Height };

export type ConsensusOutput<P> =
  /** L19: sign, persist and broadcast a proposal (the shell attaches the batch). */
  | { readonly kind: "propose"; readonly height: Height; readonly round: Round; readonly valueId: ValueId; readonly validRound: Round }
  /** L18 getValue(): this node proposes and has no valid value; answer with valueReady once a batch is built. */
  | { readonly kind: "needValue"; readonly height: Height; readonly round: Round }
  /** valid(v) is needed for a value: answer with valueChecked. */
  | { readonly kind: "checkValue"; readonly valueId: ValueId }
  /** L24, L26, L30, L32, L40, L45, L59, L63: sign, persist, broadcast, then feed back as a vote input. */
  | { readonly kind: "vote"; readonly voteKind: VoteKind; readonly height: Height; readonly round: Round; readonly valueId: ValueId | null }
  /** L21, L35, L48: call back with a timeout input after `delayMs`. */
  | { readonly kind: "scheduleTimeout"; readonly timeout: TimeoutKind; readonly height: Height; readonly round: Round; readonly delayMs: number }
  /** L49-L51: the height is decided; the precommits are the commit certificate. */
  | { readonly kind: "decide"; readonly height: Height; readonly round: Round; readonly valueId: ValueId; readonly precommits: readonly CountedVote<P>[] }
  /** Two signed messages by one validator for the same (height, round, kind) that differ. */
  | { readonly kind: "evidence"; readonly first: P; readonly second: P };

/** The round state that must survive a restart (persisted by the shell before it signs anything). */
export interface RoundState {
  readonly height: Height;
  readonly round: Round;
  readonly step: Step;
  readonly lockedValue: ValueId | null;
  readonly lockedRound: Round;
  readonly validValue: ValueId | null;
  readonly validRound: Round;
}

export class Tendermint<P> {
  private state: RoundState;
  private decided = false;
  /** Whether this height has work: an idle height schedules no timeouts and proposes nothing (no empty rounds). */
  private active = false;
  /** The validators whose proposals or votes for this height came: f+1 of them start an idle height. */
  private readonly heard = new Set<string>();
  private keeper: VoteKeeper<P>;
  private readonly proposals = new Map<Round, ProposalInput<P>>();
  private readonly validity = new Map<ValueId, boolean>();
  /** "For the first time" latches, per (rule, round) (E5: per round, reset at each height). */
  private readonly latches = new Set<string>();
  private readonly validatorSet: ReadonlySet<string>;

  constructor(private readonly config: ConsensusConfig) {
    this.validatorSet = new Set(config.validators);
    this.keeper = this.newKeeper();
    this.state = initialState(0n);
    this.decided = true;
  }

  get roundState(): RoundState {
    return this.state;
  }

  get votes(): VoteKeeper<P> {
    return this.keeper;
  }

  /** The proposal received for `round` of the current height, if any. */
  proposalIn(round: Round): ProposalInput<P> | undefined {
    return this.proposals.get(round);
  }

  /** Every proposal and vote of `validator` this node holds at the current height. */
  signedBy(validator: string): { proposals: ProposalInput<P>[]; votes: CountedVote<P>[] } {
    return { proposals: [...this.proposals.values()].filter((proposal) => proposal.proposer === validator), votes: this.keeper.votesBy(validator) };
  }

  /** Whether the current height is decided (the shell commits, then starts the next height). */
  get isDecided(): boolean {
    return this.decided;
  }

  /**
   * Resumes a height from a persisted round state after a restart. The shell then feeds back the
   * messages it had signed, and what it hears from peers.
   */
  resume(state: RoundState, hasWork: boolean): ConsensusOutput<P>[] {
    this.resetHeight(state.height);
    this.state = state;
    this.active = hasWork;
    const out: ConsensusOutput<P>[] = [];
    if (this.active) this.enterCurrentStep(out);
    this.evaluate(out);
    return out;
  }

  step(input: ConsensusInput<P>): ConsensusOutput<P>[] {
    const out: ConsensusOutput<P>[] = [];
    switch (input.kind) {
      case "startHeight":
        this.startHeight(input.height, input.hasWork, out);
        break;
      case "work":
        this.activate(out);
        break;
      case "proposal":
        this.onProposal(input.proposal, out);
        break;
      case "valueChecked":
        this.validity.set(input.valueId, input.valid);
        if (input.valid && [...this.proposals.values()].some((proposal) => proposal.valueId === input.valueId)) this.activate(out);
        break;
      case "vote":
        this.onVote(input.vote, out);
        break;
      case "timeout":
        this.onTimeout(input.timeout, input.height, input.round, out);
        break;
      case "valueReady":
        this.onValueReady(input.height, input.round, input.valueId, out);
        break;
      case "synced":
        if (input.height === this.state.height) this.decided = true;
        break;
      default:
        assertNever(input);
    }
    this.evaluate(out);
    return out;
  }

  private startHeight(height: Height, hasWork: boolean, out: ConsensusOutput<P>[]): void {
    assert(this.decided, "a height starts after the previous one is decided");
    assert(height > this.state.height || this.state.height === 0n, "heights increase");
    this.resetHeight(height);
    this.active = hasWork;
    this.startRound(0, out); // L10, L54
  }

  private resetHeight(height: Height): void {
    this.state = initialState(height); // L53: locks and valid values reset; the message log emptied
    this.decided = false;
    this.keeper = this.newKeeper();
    this.proposals.clear();
    this.validity.clear();
    this.latches.clear();
    this.heard.clear();
  }

  /** L11-L21 */
  private startRound(round: Round, out: ConsensusOutput<P>[]): void {
    this.state = { ...this.state, round, step: Step.Propose };
    if (this.active) this.enterCurrentStep(out);
  }

  /** The propose-step actions of the current round, done once, when the height is active. */
  private enterCurrentStep(out: ConsensusOutput<P>[]): void {
    const { height, round, step, validValue, validRound } = this.state;
    if (step !== Step.Propose || !this.latch("propose", round)) return;
    if (proposerOf(this.config.validators, height, round) === this.config.self) {
      if (validValue !== null) out.push({ kind: "propose", height, round, valueId: validValue, validRound }); // L15-L16, L19
      else out.push({ kind: "needValue", height, round }); // L18
    }
    // L21, for the proposer too: one still waiting for a value, or one whose shell could not send
    // its proposal (the valid value's batch not at hand after a restart), times out like everyone
    // else, so the round does not stall. One that proposed has left the step when it fires.
    out.push({ kind: "scheduleTimeout", timeout: "propose", height, round, delayMs: timeoutMs(this.config.timeouts, "propose", round) });
  }

  private activate(out: ConsensusOutput<P>[]): void {
    if (this.active || this.decided) return;
    this.active = true;
    this.enterCurrentStep(out);
  }

  /**
   * An idle height starts once f+1 validators have sent proposals or votes for it, one of them
   * correct, with work; or on a valid proposal (see valueChecked). One Byzantine validator's vote
   * had set the correct validators running empty rounds, with ever longer timeouts, until work came
   * (a statement then waited up to 40 s).
   */
  private hear(validator: string, out: ConsensusOutput<P>[]): void {
    this.heard.add(validator);
    if (this.heard.size >= this.config.roundSkip) this.activate(out);
  }

  private onProposal(proposal: ProposalInput<P>, out: ConsensusOutput<P>[]): void {
    if (this.decided) return;
    if (proposal.proposer !== proposerOf(this.config.validators, this.state.height, proposal.round)) return;
    const first = this.proposals.get(proposal.round);
    if (first !== undefined) {
      if (first.valueId !== proposal.valueId || first.validRound !== proposal.validRound) {
        out.push({ kind: "evidence", first: first.payload, second: proposal.payload });
      }
      return;
    }
    this.proposals.set(proposal.round, proposal);
    this.keeper.heardFrom(proposal.round, proposal.proposer);
    this.hear(proposal.proposer, out);
    // The proposer of a valid value had work: asked now, so that a height without work of its own starts once it is known.
    if (!this.active) this.isValid(proposal.valueId, out);
  }

  private onVote(vote: CountedVote<P>, out: ConsensusOutput<P>[]): void {
    if (this.decided || !this.validatorSet.has(vote.validator)) return;
    const added = this.keeper.add(vote);
    if (added.kind === "equivocation") out.push({ kind: "evidence", first: added.first.payload, second: vote.payload }); // E6
    this.hear(vote.validator, out);
  }

  private onValueReady(height: Height, round: Round, valueId: ValueId, out: ConsensusOutput<P>[]): void {
    const state = this.state;
    if (this.decided || height !== state.height || round !== state.round || state.step !== Step.Propose) return;
    if (proposerOf(this.config.validators, height, round) !== this.config.self || this.proposals.has(round)) return;
    this.validity.set(valueId, true);
    out.push({ kind: "propose", height, round, valueId, validRound: -1 }); // L18-L19
  }

  /** L57-L67 */
  private onTimeout(kind: TimeoutKind, height: Height, round: Round, out: ConsensusOutput<P>[]): void {
    const state = this.state;
    if (this.decided || height !== state.height || round !== state.round) return;
    if (kind === "propose" && state.step === Step.Propose) this.vote("prevote", null, out); // L58-L60 (E1: step = propose)
    else if (kind === "prevote" && state.step === Step.Prevote) this.vote("precommit", null, out); // L62-L64
    else if (kind === "precommit") this.startRound(round + 1, out); // L66-L67
  }

  /** Applies the upon-rules until none fires. */
  private evaluate(out: ConsensusOutput<P>[]): void {
    for (let fired = 0; !this.decided; fired++) {
      assert(fired < 1000, "the upon-rules settle");
      if (this.decideIfCommitted(out)) return; // L49
      if (this.skipRound(out)) continue; // L55
      if (!this.active) return;
      if (this.prevoteOnProposal(out)) continue; // L22, L28
      if (this.lockOnPolka(out)) continue; // L36
      if (this.precommitNilOnNilPolka(out)) continue; // L44
      this.scheduleQuorumTimeouts(out); // L34, L47
      return;
    }
  }

  /** L49-L54: a proposal and a quorum of precommits for it in any round decide, whatever the step. */
  private decideIfCommitted(out: ConsensusOutput<P>[]): boolean {
    for (const { round, valueId } of this.keeper.roundsWithPrecommitQuorum()) {
      const proposal = this.proposals.get(round);
      if (proposal === undefined || proposal.valueId !== valueId || !this.isValid(valueId, out)) continue;
      this.decided = true;
      out.push({ kind: "decide", height: this.state.height, round, valueId, precommits: this.keeper.votesFor("precommit", round, valueId) });
      return true;
    }
    return false;
  }

  /** L55-L56 */
  private skipRound(out: ConsensusOutput<P>[]): boolean {
    const target = this.keeper.skipTarget(this.state.round);
    if (target === undefined) return false;
    this.startRound(target, out);
    return true;
  }

  /** L22-L33. E2: L22 takes only validRound = -1 and L28 only 0 <= validRound < round. */
  private prevoteOnProposal(out: ConsensusOutput<P>[]): boolean {
    const { round, step, lockedRound, lockedValue } = this.state;
    const proposal = this.proposals.get(round);
    if (step !== Step.Propose || proposal === undefined) return false;
    const { valueId, validRound } = proposal;
    if (validRound === -1) {
      const valid = this.isValid(valueId, out);
      if (valid === undefined) return false;
      this.vote("prevote", valid && (lockedRound === -1 || lockedValue === valueId) ? valueId : null, out); // L23-L27
      return true;
    }
    // E4: a proposal with a valid round but without its polka leaves the propose timeout running.
    if (validRound < 0 || validRound >= round || !this.keeper.hasQuorumFor("prevote", validRound, valueId)) return false;
    const valid = this.isValid(valueId, out);
    if (valid === undefined) return false;
    // E3: the paper's condition, lockedValue = v included (harmless, see the reference).
    this.vote("prevote", valid && (lockedRound <= validRound || lockedValue === valueId) ? valueId : null, out); // L29-L33
    return true;
  }

  /** L36-L43: a polka for the proposal locks (from prevote) and in any case makes it the valid value. */
  private lockOnPolka(out: ConsensusOutput<P>[]): boolean {
    const { round, step } = this.state;
    const proposal = this.proposals.get(round);
    if (step < Step.Prevote || proposal === undefined || this.latches.has(`polka/${round}`)) return false;
    if (!this.keeper.hasQuorumFor("prevote", round, proposal.valueId) || this.isValid(proposal.valueId, out) !== true) return false;
    this.latch("polka", round);
    if (step === Step.Prevote) {
      this.state = { ...this.state, lockedValue: proposal.valueId, lockedRound: round };
      this.vote("precommit", proposal.valueId, out);
    }
    this.state = { ...this.state, validValue: proposal.valueId, validRound: round };
    return true;
  }

  /** L44-L46 */
  private precommitNilOnNilPolka(out: ConsensusOutput<P>[]): boolean {
    const { round, step } = this.state;
    if (step !== Step.Prevote || !this.keeper.hasQuorumFor("prevote", round, null)) return false;
    this.vote("precommit", null, out);
    return true;
  }

  /** L34-L35 and L47-L48: the first quorum of any votes in the round starts the step's timeout. */
  private scheduleQuorumTimeouts(out: ConsensusOutput<P>[]): void {
    const { height, round, step } = this.state;
    const timeouts = this.config.timeouts;
    if (step === Step.Prevote && this.keeper.hasQuorumOfAny("prevote", round) && this.latch("prevoteTimeout", round)) {
      out.push({ kind: "scheduleTimeout", timeout: "prevote", height, round, delayMs: timeoutMs(timeouts, "prevote", round) });
    }
    if (this.keeper.hasQuorumOfAny("precommit", round) && this.latch("precommitTimeout", round)) {
      out.push({ kind: "scheduleTimeout", timeout: "precommit", height, round, delayMs: timeoutMs(timeouts, "precommit", round) });
    }
  }

  /** Votes and moves to the step after the vote's kind. */
  private vote(kind: VoteKind, valueId: ValueId | null, out: ConsensusOutput<P>[]): void {
    const { height, round } = this.state;
    out.push({ kind: "vote", voteKind: kind, height, round, valueId });
    this.state = { ...this.state, step: kind === "prevote" ? Step.Prevote : Step.Precommit };
  }

  /** valid(v) if known; otherwise asks the shell once and answers undefined. */
  private isValid(valueId: ValueId, out: ConsensusOutput<P>[]): boolean | undefined {
    const known = this.validity.get(valueId);
    if (known === undefined && this.latch("check", valueId)) out.push({ kind: "checkValue", valueId });
    return known;
  }

  /** Sets a latch; true the first time. */
  private latch(rule: string, round: Round | string): boolean {
    const name = `${rule}/${round}`;
    if (this.latches.has(name)) return false;
    this.latches.add(name);
    return true;
  }

  private newKeeper(): VoteKeeper<P> {
    return new VoteKeeper<P>(this.validatorSet, this.config.quorum, this.config.roundSkip);
  }
}

function initialState(height: Height): RoundState {
  return { height, round: 0, step: Step.Propose, lockedValue: null, lockedRound: -1, validValue: null, validRound: -1 };
}
