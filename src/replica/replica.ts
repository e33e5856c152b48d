import { assert, AssertionError } from "../assert";
import type { Signer } from "../crypto/signer";
import { HashfedError } from "../errors";
import { type Federation, largestBatchBytes, type Member, quorumSize, roundSkipSize } from "../federation";
import { type AssembledBatch, assembleBatch, batchIdOf, type BatchEntry, bodyMatchesHeader, checkBatch, checkEntryCount, fitCandidates } from "../batch";
import {
  type ConsensusInput,
  type ConsensusOutput,
  type CountedVote,
  type ProposalInput,
  type RoundState,
  duplicateProposal,
  duplicateVote,
  evidenceFromConflictingCertificates,
  verifyCertificateVotes,
  signProposal,
  signVote,
  checkpointSignatureVerifies,
  Tendermint,
  verifySignedProposal,
  checkVoteSignature,
  parseSignedVote,
  proposerOf,
  Step,
} from "../consensus";
import { noteSignatureBytes } from "../crypto/signedNote";
import { Batch, BatchHeader, type CommitCertificate, type Evidence, Proposal, type SignedProposal, type SignedVote, Vote, VoteType } from "../gen/hashfed/v1/batch";
import type { LogEntry, Reveal } from "../gen/hashfed/v1/statement";
import type { BatchReference, GossipedStatement, PeerMessage, PeerStatus, ProposalWithBatch, SyncedBatch } from "../gen/hashfed/v1/peer";
import { Ledger, type ReplayProgress } from "../ledger";
import type { SignalTypeName } from "../signals";
import { LogStore } from "../store";
import type { KeyValueStore } from "../store/keyValueStore";
import { CommitWaiters } from "./commitWaiters";
import type { TimerHandle, Timers, Transport } from "./environment";
import { addsASignal, Mempool, type PendingStatement } from "./mempool";
import { GossipIgnores } from "./gossipIgnores";
import { PeerHeights } from "./peerHeights";
import { RecentSends } from "./recentSends";
import { headerNamesProposer, referenceFits, resolveReference } from "./batchReference";
import { PeerPace } from "./peerPace";
import { decodePeerMessage, encodePeerMessage, readSyncedBatch, syncAnswerContentBytes, syncAnswerFitting } from "./peerMessages";
import { ProposedValue } from "./proposedValue";
import { inThreadVerifier, type SignatureVerifier, VerifiedStatements } from "./signatureChecks";
import { FutureMessages } from "./futureMessages";
import { RoundsAhead } from "./roundsAhead";
import { SyncPeers } from "./syncPeers";
import { parseGossiped } from "./statementAdmission";
import { checkStatementRules, parseSignedStatement, type SignedStatement, type StatementId, statementIdKey, statementIdOf } from "../statements";
import { bitmapHas, voterBitmap } from "./voterBitmap";
import { compareSlots, type SignedKind, type Slot, WriteAheadState } from "./writeAheadState";

/** A signed consensus message, as the core carries it to certificates and evidence. */
type Signed = { readonly vote: SignedVote } | { readonly proposal: SignedProposal };

/** The signature check of one gossiped statement, under way: its place among the checks of its message. */
interface SignatureCheckInFlight {
  readonly entry: BatchEntry;
  readonly signature: Buffer;
  readonly results: Promise<boolean[]>;
  readonly position: number;
}

export interface ReplicaOptions {
  readonly federation: Federation;
  readonly signer: Signer;
  /** Holds the log and the write-ahead state. */
  readonly kv: KeyValueStore;
  readonly transport: Transport;
  readonly timers: Timers;
  /** Where statement signatures are checked; on the calling thread unless given (a node's pool uses worker threads for all but a few). */
  readonly verifier?: SignatureVerifier;
  readonly tuning?: Partial<ReplicaTuning>;
  readonly log?: (line: string) => void;
  /** Reports the start-up replay of the log. */
  readonly progress?: ReplayProgress;
  /** A bug (a failed assertion) in handling an input: the replica stops, and this says why. */
  readonly onFatal: (error: unknown) => void;
}

/** Intervals of the replica's own housekeeping; consensus timeouts come from the federation file. */
export interface ReplicaTuning {
  /** How often a replica tells its peers where it stands (and so learns whom to help or ask). */
  readonly statusIntervalMs: number;
  /** How often uncommitted statements are pushed to the peers again, if nothing committed meanwhile (see regossip). */
  readonly regossipIntervalMs: number;
  /** Heights asked for per sync request. */
  readonly syncBatchesMax: number;
  /**
   * How long after a height starts its proposer waits before it builds the batch, if it is still
   * that early (Tendermint's timeout_commit, small): under a steady stream of statements, heights no
   * longer run back to back with a few statements each, and the CPU each height costs every node
   * is spent on more statements. An idle federation proposes at once.
   */
  readonly batchGatherMs: number;
}

export const DEFAULT_TUNING: ReplicaTuning = { statusIntervalMs: 200, regossipIntervalMs: 1000, syncBatchesMax: 16, batchGatherMs: 5 };
/** Messages for the height after the current one are kept (bounded) until it starts. */
const FUTURE_MESSAGES_MAX = 4096;
/** Of them, per signer: a proposal and two votes a round, for a peer that many rounds ahead. */
const FUTURE_MESSAGES_PER_SIGNER_MAX = 64;
/** After a quorum has answered a listening validator, how many status intervals the others get. */
export const LISTEN_GRACE_INTERVALS = 2;
/**
 * How many status intervals after it joined a validator still takes answers to its listening: one
 * in flight still holds what it signed. Later, its nonce (public: it went to every member) means
 * nothing, and a Byzantine validator's status echoing it had cost this node a signature check per
 * message in it, up to 256, as often as the peer's rate limits allowed.
 */
const ECHOES_AFTER_JOINING_INTERVALS = 10;
/** Heights with messages under a validator's key it never signed, past its listening, that show another node using the key (see adoptOwn). */
const KEY_IN_USE_ELSEWHERE_HEIGHTS = 3;
/** Statements per gossip message: a message stays within HTTP/2's first flow-control window (64 KiB) or near it. */
const GOSSIP_STATEMENTS_PER_MESSAGE = 256;
/** A proposal a peer's status lacks goes again after a propose timeout, but at most this many status intervals. */
const PROPOSAL_RESEND_STATUS_INTERVALS = 5;
/**
 * A propose timeout waits for a proposer that its statuses show still finishing the previous height,
 * or only lately at this one, but at most this many further propose timeouts.
 */
const PROPOSER_WAIT_TIMEOUTS_MAX = 2;
/**
 * A round whose proposer has been silent for a propose timeout times out after this many status
 * intervals instead (see proposerSilent): while one of four validators was down in a soak run, each
 * height it was to propose took 2 s, a propose timeout and a precommit timeout. The precommit
 * timeout stays (L47 schedules it on any quorum of precommits, nil ones too): a validator that left
 * the round at once might miss the polka that set others' validValue and, as the next proposer,
 * propose a value they cannot accept (tendermint/tendermint issue 1690).
 */
const SILENT_PROPOSER_GRACE_STATUS_INTERVALS = 2;
/**
 * Messages taken from one answer to a listening validator: a correct peer echoes that validator's
 * messages of a few rounds, up to HELD_PRECOMMITS_PER_VALIDATOR_MAX held precommits and up to
 * FUTURE_MESSAGES_PER_SIGNER_MAX kept for the next height.
 */
const ECHOED_MESSAGES_MAX = 256;
/**
 * Messages from one peer waiting in the input queue: under the heaviest load a peer's messages wait
 * a few dozen deep; beyond this the peer is sending faster than the node can handle, on purpose.
 */
const INPUTS_QUEUED_PER_PEER_MAX = 1024;
/** And their bytes, in maximum-size messages: a batch asked for whole, or a sync response, is one. */
const INPUT_MESSAGES_OF_MAX_SIZE_QUEUED_PER_PEER = 8;
/**
 * Sync requests of one peer answered within a status interval. A peer catching up asks again as soon
 * as it has applied an answer, a round trip of a few milliseconds when batches are small, and may
 * check a fork on the way: far fewer than the thousands a second its rate limits would let it ask.
 */
const SYNC_ANSWERS_PER_STATUS_INTERVAL_MAX = 16;
/**
 * Gossiped statements of one peer whose signature checks may be under way at once: more than a
 * second of a node's checks, and a few thousand a correct peer's heaviest gossip keeps under way.
 */
const GOSSIP_CHECKS_IN_FLIGHT_PER_PEER_MAX = 16_384;
/**
 * How long a peer's gossiped statements are ignored once one of them fails its signature check. A
 * correct node passes on only statements it verified, and every node checks with the keys of one
 * federation file, so such a statement shows the peer faulty: without this, a Byzantine member kept
 * a node's verification busy with statements no one signed, up to the bound above at a time, for
 * as long as it liked. Its own statements still reach this node in the batches that name them.
 */
export const FORGED_GOSSIP_IGNORED_MS = 10 * 60_000;
/** How long a peer that let a sync request lapse, or answered it with nothing usable, is not asked again. */
const SYNC_PASS_OVER_STATUS_INTERVALS = 5;
/** A peer whose last status is older than this many status intervals is not asked for heights: it may be down. */
const SYNC_PEER_SILENT_STATUS_INTERVALS = 4;
/** Rounds beyond the next that one validator's messages may occupy at a time (see RoundsAhead). */
const ROUNDS_AHEAD_PER_VALIDATOR_MAX = 2;
/**
 * Precommits of one validator held for batches not seen yet: a correct one precommits once a round,
 * and a node lacks the batch of one or two rounds at a time; a Byzantine one could otherwise have a
 * node hold one for every batch id it makes up.
 */
const HELD_PRECOMMITS_PER_VALIDATOR_MAX = 16;
/**
 * Batches taken from one round's proposals: the proposer's, and a second one if it equivocates, as
 * correct nodes may then vote for either. Each further one is evidence and nothing more; a node that
 * lacks the batch decided with it syncs that height (see joinConsensus).
 */
const VALUES_PER_ROUND_MAX = 2;

/**
 * A validator's replica: everything it decides, behind injected I/O (Transport, Timers, a
 * KeyValueStore, a Signer), so it runs the same on gRPC and LevelDB as in the simulator. It admits
 * statements into a bounded mempool and gossips them; drives the Tendermint core, signing and
 * persisting every message before it leaves (the write-ahead state is also the double-sign guard);
 * proposes and validates batches; commits each decided batch with its certificate through the
 * Ledger; exchanges status so that lost votes are sent again and lagging peers catch up by syncing
 * whole heights; and keeps evidence of equivocation.
 *
 * Inputs are handled one at a time, in arrival order, so the core never sees two at once and every
 * write completes before anything depending on it is sent.
 */
export class Replica {
  readonly mempool: Mempool;
  readonly waiters = new CommitWaiters();
  /** Evidence of equivocation found, kept in the store: served by the Log service. */
  readonly evidence: Evidence[];
  /** The signature pairs of the evidence held, so that one equivocation is kept once. */
  private readonly evidenceKeys = new Set<string>();
  private readonly verified = new VerifiedStatements();
  private readonly verifier: SignatureVerifier;
  private readonly core: Tendermint<Signed> | undefined;
  private readonly tuning: ReplicaTuning;
  private readonly peers: readonly string[];
  /** The validators in federation file order: the order of the bitmaps in statuses. */
  private readonly validators: readonly string[];
  private readonly recentSends: RecentSends;
  /** How long a proposal waits before it goes again to a peer whose status lacks it (resendRound). */
  private readonly proposalResendMs: number;
  /** Proposals of this height as peer messages, by signature: each is encoded once, not at every re-send. */
  private encodedProposals = new Map<string, Buffer>();
  /** Batches proposed at the current height, by id. */
  private values = new Map<string, ProposedValue>();
  /** Batches of this height's proposals that name statements this replica lacks: asked for whole. */
  private requestedValues = new Set<string>();
  /** Batches whose validity the core asked for before this replica had them: answered when they come (valueKnown). */
  private uncheckedValues = new Set<string>();
  /**
   * Precommits for batches not seen yet: a precommit counts only once its checkpoint signature is
   * checked against the batch's checkpoint, or a Byzantine validator could help reach a decision
   * that no certificate can then prove.
   */
  private heldPrecommits = new Map<string, { signed: SignedVote; vote: Vote; validator: Member }[]>();
  /** How many precommits of each validator heldPrecommits holds. */
  private heldByValidator = new Map<string, number>();
  /** The batches this height's proposals named, by round, as far as taken (see VALUES_PER_ROUND_MAX). */
  private valuesByRound = new Map<number, Set<string>>();
  private readonly roundsAhead = new RoundsAhead(ROUNDS_AHEAD_PER_VALIDATOR_MAX);
  /** The committed height each member last reported: what an observer can sync from it. */
  private readonly lastCommittedOf = new Map<string, bigint>();
  private readonly futureMessages = new FutureMessages(FUTURE_MESSAGES_MAX, FUTURE_MESSAGES_PER_SIGNER_MAX);
  /** Statements admitted since gossip last went out, each with the peer it came from (not sent back to it). */
  private outgoing: { entry: BatchEntry; from: string | undefined }[] = [];
  /**
   * Gossiped statements whose signatures are being checked, by id key: a copy from another peer
   * meanwhile is dropped, and a proposal that carries the same signed statement waits for the
   * check instead of making a second one (undefined for a copy that did not parse).
   */
  private readonly checking = new Map<string, SignatureCheckInFlight | undefined>();
  /** How many of `checking` each peer sent. */
  private readonly checkingFrom = new Map<string, number>();
  private readonly gossipIgnores = new GossipIgnores(FORGED_GOSSIP_IGNORED_MS);
  private waitingForValue: { height: bigint; round: number } | undefined;
  /** When the current height started, on the replica's clock: its proposer lets statements gather until batchGatherMs after. */
  private heightStartedAt = 0;
  /** Whether answerValueRequest is due again once the statements have gathered. */
  private gatherScheduled = false;
  /** From start until the validator joins consensus at the height in progress: see listen(). */
  private listening = false;
  /** The current listening phase's nonce, which peers echo; 0 once answers to it are no longer taken. */
  private listenNonce = 0n;
  /** Answers to listening validators: one per peer and nonce per half status interval. */
  private readonly listenerAnswers: PeerPace;
  /** Answers to this validator's listening taken: one per peer and nonce per half status interval (each up to 256 signature checks). */
  private readonly echoesTaken: PeerPace;
  /** Heights at which, past its listening, this validator heard messages under its key that it never signed (see adoptOwn). */
  private readonly unsignedOwnHeights = new Set<bigint>();
  /** The validators that echoed it at our height. */
  private readonly echoed = new Set<string>();
  /** The highest committed height each other validator has reported in its statuses. */
  private readonly reportedCommitted = new Map<string, bigint>();
  /** The height each other validator reports in its statuses, and since when: see proposeTimeout. */
  private readonly peerHeights = new PeerHeights();
  /** The sync asked for: of whom, from which height, when and until when, and what the peer then said it had committed. */
  private syncInFlight: { peer: string; fromHeight: bigint; askedAt: number; until: number; claimed: bigint } | undefined;
  /** Whom to ask for heights. */
  private readonly syncPeers: SyncPeers;
  /** When each member's sync requests were answered, within the last status interval (see onSyncRequest). */
  private readonly syncAnsweredAt = new Map<string, number[]>();
  /** The committed height at the last regossip tick. */
  private regossipHeight: bigint;
  /** The height whose batch each peer was last asked for because its id differs from ours, and until when that ask stands (answered: for good). */
  private readonly forkChecks = new Map<string, { height: bigint; until: number }>();
  /** Timers not yet fired, cleared on close; each leaves the set when it fires. */
  private readonly timerHandles = new Set<TimerHandle>();
  /**
   * The consensus timeouts of the current height, cleared when the next begins: the core ignores a
   * timeout of a past height, and dozens of heights a second would otherwise each leave a few timers
   * that wake the event loop for nothing, a second or more later.
   */
  private heightTimers: TimerHandle[] = [];
  private readonly rejectionListeners: ((entry: BatchEntry, error: HashfedError) => void)[] = [];
  /** Every other member: statuses go to observers too, so that they learn what to sync. */
  private readonly members: readonly string[];
  private work: Promise<void> = Promise.resolve();
  /** Messages received from each peer and waiting in the input queue, and their bytes. */
  private readonly queuedFrom = new Map<string, { messages: number; bytes: number }>();
  private closed = false;

  private constructor(
    private readonly options: ReplicaOptions,
    readonly ledger: Ledger,
    private readonly wal: WriteAheadState,
    evidence: Evidence[],
  ) {
    this.evidence = evidence;
    for (const kept of evidence) this.evidenceKeys.add(evidenceKey(kept));
    const { federation, signer } = options;
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.verifier = options.verifier ?? inThreadVerifier;
    const validators = federation.validators.map((member) => member.name);
    this.validators = validators;
    this.peers = validators.filter((name) => name !== signer.name);
    this.recentSends = new RecentSends(this.tuning.statusIntervalMs);
    this.syncPeers = new SyncPeers(SYNC_PEER_SILENT_STATUS_INTERVALS * this.tuning.statusIntervalMs);
    this.proposalResendMs = Math.min(federation.parameters.timeoutProposeMs, PROPOSAL_RESEND_STATUS_INTERVALS * this.tuning.statusIntervalMs);
    this.members = federation.members.map((member) => member.name).filter((name) => name !== signer.name);
    this.regossipHeight = ledger.head.height;
    this.listenerAnswers = new PeerPace(this.tuning.statusIntervalMs / 2);
    this.echoesTaken = new PeerPace(this.tuning.statusIntervalMs / 2);
    this.mempool = new Mempool({ statementsMax: federation.parameters.mempoolStatementsMax, perSubmitterMax: federation.parameters.mempoolPerSubmitterMax });
    if (validators.includes(signer.name)) {
      const { parameters } = federation;
      this.core = new Tendermint<Signed>({
        self: signer.name,
        validators,
        quorum: quorumSize(validators.length),
        roundSkip: roundSkipSize(validators.length),
        timeouts: { proposeMs: parameters.timeoutProposeMs, prevoteMs: parameters.timeoutPrevoteMs, precommitMs: parameters.timeoutPrecommitMs, deltaMs: parameters.timeoutDeltaMs },
      });
    }
    ledger.onCommit((batch) => this.onCommitted(batch));
  }

  static async open(options: ReplicaOptions): Promise<Replica> {
    const store = LogStore.on(options.kv);
    await store.bindFederation(options.federation.id);
    await store.bindMember(options.signer.name);
    const ledger = await Ledger.open(options.federation, store, options.progress);
    const replica = new Replica(options, ledger, await WriteAheadState.open(options.kv), await store.readEvidence());
    replica.start();
    return replica;
  }

  /** This node's part in consensus: not a validator, a validator listening after its start, or validating. */
  get participation(): "observer" | "listening" | "validating" {
    if (this.core === undefined) return "observer";
    return this.listening ? "listening" : "validating";
  }

  get name(): string {
    return this.options.signer.name;
  }

  /**
   * Admits the member's own statements (already checked and signed) into the mempool now, and
   * gossips them; each promise resolves with the log index at commit, or rejects if a rule of the
   * log refuses the statement when a batch is built.
   */
  submit(entries: readonly BatchEntry[], abandoned?: AbortSignal): Promise<number>[] {
    const waits = entries.map((entry) => this.waiters.wait(entry.signed.id, abandoned));
    for (const entry of entries) this.verified.add(entry.signed);
    // An add of a signal its member has live is refused now, as a proposer would refuse it, and not
    // sent round: an observer proposes nothing and, with nothing else committing, had kept its
    // member waiting for good while the validators took the statement back at every regossip and
    // ran empty rounds. Checked once all of them are pending: a retraction among them makes the add
    // a replacement. (A gossiped add is not refused so: this node may be behind a retraction.)
    const admitted = this.addToMempool(entries).filter((entry) => {
      const refused = this.doneOnTheLog(entry);
      if (refused === undefined) return true;
      this.mempool.remove(entry.signed.key);
      this.reject(entry, refused);
      return false;
    });
    this.enqueue(() => this.announce(admitted, undefined));
    return waits;
  }

  /** Called with each statement a rule of the log refused when a batch was built. */
  onRejected(listener: (entry: BatchEntry, error: HashfedError) => void): void {
    this.rejectionListeners.push(listener);
  }

  /** Delivers an encoded PeerMessage from a peer. Malformed or unverifiable messages are dropped. */
  receive(from: string, bytes: Uint8Array): void {
    if (this.closed) return;
    // Dropped beyond the bound, like a message lost: the rate limits let a peer send far more than
    // a node can handle (forged votes, each a signature check), and its backlog held every input behind it.
    const queued = this.queuedFrom.get(from) ?? { messages: 0, bytes: 0 };
    if (queued.messages >= INPUTS_QUEUED_PER_PEER_MAX || queued.bytes + bytes.length > INPUT_MESSAGES_OF_MAX_SIZE_QUEUED_PER_PEER * this.options.federation.parameters.messageBytesMax) return;
    let message: PeerMessage;
    try {
      message = decodePeerMessage(bytes);
    } catch {
      return;
    }
    this.peerHeights.heard(from, this.options.timers.now());
    this.queuedFrom.set(from, queued);
    queued.messages++;
    queued.bytes += bytes.length;
    this.enqueue(() => {
      queued.messages--;
      queued.bytes -= bytes.length;
      return this.handle(from, message);
    });
  }

  /** Stops timers and ignores every later input; the store stays open (the owner closes it). */
  close(): void {
    this.closed = true;
    for (const handle of this.timerHandles) this.options.timers.clearTimeout(handle);
  }

  /** Resolves once the input being handled, if any, is done (after close, no other starts). */
  idle(): Promise<void> {
    return this.work;
  }

  private start(): void {
    this.every(this.tuning.statusIntervalMs, () => this.sendStatus());
    this.every(this.tuning.regossipIntervalMs, () => this.regossip());
    if (this.core === undefined) return;
    if (this.peers.length === 0) {
      this.enqueue(() => this.beginHeight());
      return;
    }
    this.listening = true;
    this.listen();
  }

  /**
   * A validator listens before it signs, after every start: a start from an old copy of its disk
   * looks like any other, and what it signed since that copy is known only to its peers. Its
   * statuses carry a fresh nonce; each peer answers each of them with a status that echoes the nonce
   * and holds every message of this validator it has at the peer's height, and those of the next
   * height it keeps (FutureMessages), which this one adopts (it will never sign those slots
   * differently). A peer at another height answers too: one ahead holds what this validator signed
   * there before its disk was restored, and it may reach that height by deciding, with no listening
   * in between. Heights that f+1 peers report committed it syncs instead, then listens again at the
   * new height. It joins once every other validator has answered at its height, or once a quorum
   * with itself has and the others had LISTEN_GRACE_INTERVALS status intervals more: with fewer
   * nothing can be decided, and a guess at what its peers hold could make it equivocate.
   */
  private listen(): void {
    const now = BigInt(Math.floor(this.options.timers.now())) + 1n;
    this.listenNonce = now > this.listenNonce ? now : this.listenNonce + 1n;
    this.echoed.clear();
    this.sendStatus();
  }

  /**
   * An answer to this validator's latest listening, even one that comes after it joined: it adopts
   * what it signed; only answers at its height, while it listens, count towards joining.
   */
  private async onEcho(from: string, yours: readonly Uint8Array[], atOurHeight: boolean): Promise<void> {
    const nonce = this.listenNonce;
    // Only this validator's own votes and proposals, and no more of them than a correct peer holds:
    // anything else in an answer (a status with answers of its own, nested a thousand deep) is a
    // peer's attempt to make this node decode and hold more than it sent. The highest slots first,
    // since adopting the highest is what keeps this validator from signing below it.
    const own = yours.flatMap((bytes) => decodeOwn(bytes, this.name) ?? []);
    own.sort((a, b) => compareSlots(b.slot, a.slot));
    for (const { message } of own.slice(0, ECHOED_MESSAGES_MAX)) await this.handle(from, message);
    if (!atOurHeight || !this.listening || this.listenNonce !== nonce) return;
    this.echoed.add(from);
    if (this.echoed.size === this.peers.length) return this.joinConsensus();
    if (this.echoed.size === quorumSize(this.peers.length + 1) - 1) {
      this.later(LISTEN_GRACE_INTERVALS * this.tuning.statusIntervalMs, () => (this.listening && this.listenNonce === nonce ? this.joinConsensus() : undefined));
    }
  }

  /** Answers a listening validator, at any height: our status, echoing its nonce, with its messages we hold. */
  private answerListener(peer: string, nonce: bigint): void {
    const core = this.core!;
    const yours: Buffer[] = [];
    if (core.roundState.height === this.consensusHeight()) {
      const { proposals, votes } = core.signedBy(peer);
      for (const proposal of proposals) yours.push(...this.proposalMessage(proposal, { bare: true }));
      for (const vote of votes) yours.push(...this.voteMessage(vote));
    }
    for (const held of this.heldPrecommits.values()) {
      for (const { signed, vote } of held) if (vote.validator === peer) yours.push(encodePeerMessage({ kind: { $case: "vote", value: signed } }));
    }
    // And those of the next height, kept here until it starts: a validator that decided our height
    // may have signed there before its disk was restored. Proposals go bare, as above: what it
    // signed is what it needs, and their batch references had made an answer megabytes.
    for (const message of this.futureMessages.signedBy(peer)) {
      const kind = message.kind!;
      yours.push(encodePeerMessage(kind.$case === "proposal" ? { kind: { $case: "proposal", value: { proposal: kind.value.proposal, batch: undefined } } } : message));
    }
    this.sendTo(peer, { kind: { $case: "status", value: { ...this.status(), echo: nonce, yours } } });
  }

  /** Works on the next height, unless peers report it decided: then it syncs up to them first (listening again after, if it was). */
  private async joinConsensus(): Promise<void> {
    const decided = this.decidedElsewhere();
    if (this.ledger.head.height < decided) {
      // With every such peer passed over, the next status from one that has the height asks it.
      const ahead = this.syncPeerAt(decided);
      if (ahead !== undefined) this.requestSync(ahead);
      return;
    }
    if (this.listening) {
      this.options.log?.(`${this.name}: validating from height ${this.consensusHeight()}, having heard from its peers what it signed before`);
      const nonce = this.listenNonce;
      this.later(ECHOES_AFTER_JOINING_INTERVALS * this.tuning.statusIntervalMs, () => {
        if (!this.listening && this.listenNonce === nonce) this.listenNonce = 0n;
      });
    }
    this.listening = false;
    return this.beginHeight();
  }

  /** A validator reporting `height` committed to ask for it (see SyncPeers). */
  private syncPeerAt(height: bigint): string | undefined {
    const reporters = [...this.reportedCommitted].filter(([, reported]) => reported >= height).map(([name]) => name);
    return this.syncPeers.choose(reporters, this.options.timers.now());
  }

  /** A member whose last status reported a height above `height` committed to ask for it (see SyncPeers). */
  private syncPeerAbove(height: bigint): string | undefined {
    const ahead = [...this.lastCommittedOf].filter(([, committed]) => committed > height).map(([name]) => name);
    return this.syncPeers.choose(ahead, this.options.timers.now());
  }

  /**
   * The highest height that at least f+1 other validators report committed. One of them at least
   * is correct, so the height is decided, and no f Byzantine validators can raise it by lying. A
   * validator never signs at or below it: a node restored from an old copy of its disk cannot know
   * what it signed there.
   */
  private decidedElsewhere(): bigint {
    const validators = this.peers.length + 1;
    const faultsTolerated = validators - quorumSize(validators);
    const reports = [...this.reportedCommitted.values()].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    return reports[faultsTolerated] ?? 0n;
  }

  // ---- inputs ------------------------------------------------------------------------------

  private async handle(from: string, message: PeerMessage): Promise<void> {
    try {
      await this.dispatch(from, message);
    } catch (error) {
      if (!(error instanceof HashfedError)) throw error;
      this.options.log?.(`${this.name}: dropped a message from ${from}: ${error.message}`);
    }
  }

  private async dispatch(from: string, message: PeerMessage): Promise<void> {
    const kind = message.kind!;
    switch (kind.$case) {
      case "statements":
        return this.checkGossip(from, kind.value.statements);
      case "vote":
        return this.onVote(from, message, kind.value);
      case "proposal":
        return this.onProposal(from, message, kind.value);
      case "status":
        return this.onStatus(from, kind.value);
      case "syncRequest":
        return this.onSyncRequest(from, kind.value.fromHeight, kind.value.count);
      case "syncResponse":
        return this.onSyncResponse(from, kind.value.batches);
      case "proposedBatchRequest":
        return this.onProposedBatchRequest(from, kind.value.valueId);
      case "proposedBatch":
        return this.onProposedBatch(from, kind.value);
    }
  }

  private async onVote(from: string, message: PeerMessage, signed: SignedVote): Promise<void> {
    const parsed = parseSignedVote(this.options.federation, signed);
    // A vote of a committed height changes nothing, so its signature is not worth checking: with
    // four validators the third precommit of every height arrives after the commit. Nor is one of a
    // round too far ahead that would not count.
    const height = this.consensusHeight();
    if (this.dropsUnchecked(parsed.vote.validator, parsed.vote.height, parsed.vote.round)) return;
    const { vote, validator } = checkVoteSignature(parsed);
    if (vote.validator === this.name) await this.adoptOwn(slotOfVote(vote), message);
    if (vote.height > height) return this.keepForLater(from, vote.validator, vote.height, message);
    if (this.core === undefined || this.listening) return;
    // Through whichever peer: a validator whose link to this node is down may reach it by relays (proposerSilent).
    this.peerHeights.heard(vote.validator, this.options.timers.now());
    this.roundsAhead.record(vote.validator, vote.round, this.core.roundState.round);
    this.recentSends.heard(signed.signature, this.options.timers.now());
    const valueId = valueIdOf(vote.valueId);
    if (vote.type === VoteType.VOTE_TYPE_PRECOMMIT && valueId !== null) {
      const value = this.values.get(valueId);
      if (value?.invalid) return;
      if (value === undefined) return this.hold(valueId, signed, vote, validator);
      const checked = await this.ensureChecked(valueId);
      if (checked === undefined || !checkpointSignatureVerifies(validator, vote.checkpointSignature, checked.checkpointBody)) return;
    }
    await this.feedVote(signed, vote);
  }

  private async feedVote(signed: SignedVote, vote: Vote): Promise<void> {
    // The core's inputs carry no height: a vote fed after a decision moved it on (held precommits
    // released one by one) would count at the next height, where it looks like an equivocation.
    if (vote.height !== this.consensusHeight()) return;
    await this.stepCore({
      kind: "vote",
      vote: { kind: vote.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : "precommit", round: vote.round, valueId: valueIdOf(vote.valueId), validator: vote.validator, payload: { vote: signed } },
    });
  }

  /**
   * Whether a vote or proposal by `signer` would be dropped once checked, so that its signature is
   * not worth checking: of a committed height, or another validator's beyond the next height (only
   * this validator's own matter there, to be adopted; keepForLater drops the rest) or too many
   * rounds ahead (RoundsAhead).
   */
  private dropsUnchecked(signer: string, height: bigint, round: number): boolean {
    const current = this.consensusHeight();
    if (height < current) return true;
    if (signer === this.name) return false;
    return height > current + 1n || (height === current && !this.admitsRound(signer, round));
  }

  /** Whether a batch named by a proposal of `round` is taken: one of the first VALUES_PER_ROUND_MAX named there. */
  private takesValue(round: number, valueId: string): boolean {
    const named = this.valuesByRound.get(round) ?? new Set<string>();
    if (!named.has(valueId) && named.size >= VALUES_PER_ROUND_MAX) return false;
    this.valuesByRound.set(round, named.add(valueId));
    return true;
  }

  /** Whether a message of this height by `validator` in `round` may count (RoundsAhead); this validator's own always may, to be adopted. */
  private admitsRound(validator: string, round: number): boolean {
    return validator === this.name || this.core === undefined || this.roundsAhead.admits(validator, round, this.core.roundState.round);
  }

  private hold(valueId: string, signed: SignedVote, vote: Vote, validator: Member): void {
    const count = this.heldByValidator.get(vote.validator) ?? 0;
    if (count >= HELD_PRECOMMITS_PER_VALIDATOR_MAX) return;
    this.heldByValidator.set(vote.validator, count + 1);
    const held = this.heldPrecommits.get(valueId) ?? [];
    held.push({ signed, vote, validator });
    this.heldPrecommits.set(valueId, held);
  }

  /** A batch arrived or was checked: its held precommits with valid checkpoint signatures now count. */
  private async releaseHeld(valueId: string): Promise<void> {
    const held = this.heldPrecommits.get(valueId);
    if (held === undefined) return;
    this.heldPrecommits.delete(valueId);
    for (const { vote } of held) this.heldByValidator.set(vote.validator, this.heldByValidator.get(vote.validator)! - 1);
    const checked = await this.ensureChecked(valueId);
    if (checked === undefined) return;
    for (const { signed, vote, validator } of held) {
      // One malformed signature must not cost the honest precommits held beside it.
      let verifies = false;
      try {
        verifies = checkpointSignatureVerifies(validator, vote.checkpointSignature, checked.checkpointBody);
      } catch (error) {
        if (!(error instanceof HashfedError)) throw error;
      }
      if (verifies) await this.feedVote(signed, vote);
    }
  }

  /** valid(v) for a batch of this height, computed once: the assembled batch, or undefined if invalid. */
  private async ensureChecked(valueId: string): Promise<AssembledBatch | undefined> {
    const value = this.values.get(valueId);
    if (value === undefined || value.invalid) return undefined;
    if (value.checked === undefined) {
      try {
        value.checked = await this.checkAgainstLog(value.batch, (logEntry) => value.parsed(logEntry));
      } catch (error) {
        if (!(error instanceof HashfedError)) throw error;
        value.invalid = true;
      }
    }
    return value.checked;
  }

  /**
   * checkBatch against the log as it stands, with the statement signatures not verified before
   * (most were, when gossiped) verified in bulk by the verifier first. Entries the mempool holds
   * are taken from it rather than parsed again, and so are those `known` holds. Throws HashfedError if invalid.
   */
  private async checkAgainstLog(batch: Batch, known: (logEntry: LogEntry) => SignedStatement | undefined = () => undefined): Promise<AssembledBatch> {
    const { federation } = this.options;
    checkEntryCount(federation, batch);
    const parsed = new Map<LogEntry, SignedStatement>();
    for (const logEntry of batch.entries) {
      const signed = known(logEntry) ?? this.pendingOrParsed(logEntry);
      if (signed !== undefined) parsed.set(logEntry, signed);
    }
    const unverified = [...parsed.values()].flatMap((signed) => {
      if (this.verified.has(signed)) return [];
      try {
        return [{ signed, member: checkStatementRules(federation, signed) }];
      } catch (error) {
        if (error instanceof HashfedError) return [];
        throw error;
      }
    });
    const inFlight = unverified.map(({ signed }) => {
      const check = this.checking.get(signed.key);
      // A verifier that fails stops the replica, so its rejection passes through here rather than reading as "invalid".
      return check !== undefined && check.signature.equals(signed.signature) ? check.results.then((results) => results[check.position] === true) : undefined;
    });
    const toCheck = unverified.filter((_, i) => inFlight[i] === undefined);
    const [checked, waited] = await Promise.all([
      toCheck.length === 0
        ? []
        : this.verifier.verify(
            "statement",
            toCheck.map(({ signed, member }) => ({ key: member.key, bytes: signed.bytes, signature: signed.signature })),
          ),
      Promise.all(inFlight.map((valid) => valid ?? false)),
    ]);
    toCheck.forEach(({ signed }, i) => checked[i] && this.verified.add(signed));
    unverified.forEach(({ signed }, i) => waited[i] && this.verified.add(signed));
    return checkBatch(
      federation,
      this.ledger.state,
      this.ledger.head,
      batch,
      (signed) => this.verified.has(signed),
      (logEntry) => parsed.get(logEntry) ?? parseSignedStatement(logEntry.statement, logEntry.signature),
      (signed, reveal) => this.admittedWith(signed, reveal),
    );
  }

  /** Whether the mempool holds this very statement with this reveal: everything about it was checked on admission. */
  private admittedWith(signed: SignedStatement, reveal: Reveal): boolean {
    const pending = this.mempool.get(signed.key);
    return pending?.signed === signed && pending.reveal !== undefined && sameReveal(pending.reveal, reveal) && this.verified.has(signed);
  }

  /** The statement of a batch entry: the mempool's if it holds it with this signature, else parsed; undefined if it does not parse. */
  private pendingOrParsed(logEntry: LogEntry): SignedStatement | undefined {
    const id = statementIdOf(logEntry.statement);
    const pending = this.mempool.get(statementIdKey(id));
    if (pending !== undefined && pending.signed.signature.equals(logEntry.signature)) return pending.signed;
    try {
      return parseSignedStatement(logEntry.statement, logEntry.signature, id);
    } catch (error) {
      if (error instanceof HashfedError) return undefined;
      throw error;
    }
  }

  private async onProposal(from: string, message: PeerMessage, value: ProposalWithBatch): Promise<void> {
    if (value.proposal === undefined) return;
    // Decoded, not verified; a proposal that does not decode goes on to the check, which says what is wrong.
    const claimed = claimedSlot({ proposal: value.proposal });
    if (claimed !== undefined && this.dropsUnchecked(claimed.signer, claimed.slot.height, claimed.slot.round)) return;
    const { proposal } = verifySignedProposal(this.options.federation, value.proposal);
    // Before the batch check: a peer echoes a listener's proposal without its batch when it never got the batch.
    if (proposal.proposer === this.name) await this.adoptOwn({ height: proposal.height, round: proposal.round, kind: "proposal" }, message);
    if (value.batch === undefined) return;
    const height = this.consensusHeight();
    if (proposal.height > height) {
      // Kept whole until the height starts: only one that could be taken then (its round's
      // proposer's, for the first two rounds, of a batch's size). A validator had parked 64
      // proposals of up to messageBytesMax each at every node, 228 MiB in a test.
      const taken = proposerOf(this.validators, proposal.height, proposal.round) === proposal.proposer && proposal.round <= 1;
      if (taken && referenceFits(value.batch, this.options.federation.parameters.batchEntriesMax)) this.keepForLater(from, proposal.proposer, proposal.height, message);
      return;
    }
    if (proposal.height < height || this.core === undefined || this.listening) return;
    this.peerHeights.heard(proposal.proposer, this.options.timers.now());
    const valueId = Buffer.from(proposal.valueId).toString("hex");
    if (!batchIdOf(value.batch.header).equals(proposal.valueId)) return;
    this.roundsAhead.record(proposal.proposer, proposal.round, this.core.roundState.round);
    this.recentSends.heard(value.proposal.signature, this.options.timers.now());
    // A batch is taken or asked for only for the round's proposer, up to the round after this replica's:
    // a Byzantine validator could otherwise sign proposals for endless rounds, each a batch held or asked for.
    // A new value (no valid round) names its proposer in its header: a Byzantine proposer had
    // committed batches that named another validator as theirs.
    const relevant =
      proposerOf(this.validators, height, proposal.round) === proposal.proposer &&
      proposal.round <= this.core.roundState.round + 1 &&
      referenceFits(value.batch, this.options.federation.parameters.batchEntriesMax) &&
      (proposal.validRound !== -1 || headerNamesProposer(value.batch.header, proposal.proposer));
    if (relevant && !this.values.has(valueId) && this.takesValue(proposal.round, valueId)) this.learnValue(valueId, value.batch, proposal.proposer, from);
    if (this.values.has(valueId)) await this.valueKnown(valueId);
    // Held precommits released just now may have decided the height (see feedVote).
    if (proposal.height !== this.consensusHeight()) return;
    await this.stepCore({
      kind: "proposal",
      proposal: { round: proposal.round, valueId, validRound: proposal.validRound, proposer: proposal.proposer, payload: { proposal: value.proposal } },
    });
  }

  /**
   * Takes the batch a proposal names from the statements this replica holds: admitted, or gossiped
   * and being checked (valid(v) then waits for the check, as for any entry). Only the proposer's own
   * reference is taken: another peer could pass on the signed proposal with entries reordered or
   * swapped, and the batch they make, whose header does not match, would count as invalid. From a
   * relay, or with a statement missing, it asks the sender for the whole batch (see requestValue).
   */
  private learnValue(valueId: string, reference: BatchReference, proposer: string, from: string): void {
    const entries =
      from === proposer ? resolveReference(reference, this.options.federation.parameters.batchEntriesMax, (id, signature) => this.heldStatement(id, signature)) : undefined;
    if (entries === undefined) {
      this.requestValue(valueId, from);
      return;
    }
    this.values.set(valueId, ProposedValue.referenced(reference, entries));
    // Asked for on an earlier copy of the proposal, or one of an earlier round, before its statements came: no longer.
    this.requestedValues.delete(valueId);
  }

  /** A statement this replica holds with this very signature, admitted or with its check under way. */
  private heldStatement(id: StatementId, signature: Buffer): BatchEntry | undefined {
    const key = statementIdKey(id);
    const pending = this.mempool.get(key);
    if (pending !== undefined) return pending.signed.signature.equals(signature) ? pending : undefined;
    const check = this.checking.get(key);
    return check !== undefined && check.signature.equals(signature) ? check.entry : undefined;
  }

  /**
   * Asks `from` (every peer, for this replica's own proposal heard back after a restart) for a
   * proposed batch whole, and every peer again each proposalResendMs until it comes or the height
   * ends: a request or answer can be lost, and the sender may have gone.
   */
  private requestValue(valueId: string, from: string): void {
    if (this.requestedValues.has(valueId)) return;
    this.requestedValues.add(valueId);
    const request = encodePeerMessage({ kind: { $case: "proposedBatchRequest", value: { valueId: Buffer.from(valueId, "hex") } } });
    const ask = (peers: readonly string[]): void => {
      for (const peer of peers) this.sendBytesTo(peer, request);
    };
    const again = (): void => {
      if (!this.requestedValues.has(valueId)) return;
      ask(this.peers);
      this.heightTimers.push(this.later(this.proposalResendMs, again));
    };
    ask(from === this.name ? this.peers : [from]);
    this.heightTimers.push(this.later(this.proposalResendMs, again));
  }

  /** A peer lacks statements of a batch proposed at this height: it gets the batch whole, at most once a proposalResendMs. */
  private onProposedBatchRequest(from: string, valueId: Uint8Array): void {
    const value = this.values.get(Buffer.from(valueId).toString("hex"));
    if (value === undefined || !this.peers.includes(from) || !this.recentSends.admit(from, valueId, this.options.timers.now(), this.proposalResendMs)) return;
    this.sendTo(from, { kind: { $case: "proposedBatch", value: value.batch } });
  }

  /**
   * A batch this replica asked for and still lacks, from a validator; any other is dropped unread. A
   * body that is not the one its header commits to is dropped too, and the asking goes on: the peer
   * changed it, and it must not make the batch count as invalid here.
   */
  private async onProposedBatch(from: string, batch: Batch): Promise<void> {
    const valueId = batchIdOf(batch.header).toString("hex");
    if (!this.peers.includes(from) || !this.requestedValues.has(valueId) || this.values.has(valueId) || !bodyMatchesHeader(this.ledger.head, batch)) return;
    this.requestedValues.delete(valueId);
    this.values.set(valueId, ProposedValue.received(batch));
    await this.valueKnown(valueId);
  }

  /** A batch is known now: its held precommits count, and the core gets valid(v) if it asked before the batch was here. */
  private async valueKnown(valueId: string): Promise<void> {
    await this.releaseHeld(valueId);
    if (this.uncheckedValues.delete(valueId)) await this.checkValue(valueId);
  }

  private async onStatus(from: string, status: PeerStatus): Promise<void> {
    if (!this.members.includes(from)) return;
    const validator = this.peers.includes(from);
    if (validator && status.committedHeight > (this.reportedCommitted.get(from) ?? 0n)) this.reportedCommitted.set(from, status.committedHeight);
    this.lastCommittedOf.set(from, status.committedHeight);
    this.syncPeers.heard(from, this.options.timers.now());
    if (this.core !== undefined && validator) this.peerHeights.reported(from, status.height, this.options.timers.now());
    // An answer is not answered again, or two listening validators would answer each other forever.
    const answerable = status.listening !== 0n && status.echo === 0n;
    const now = this.options.timers.now();
    if (this.core !== undefined && validator && answerable && this.listenerAnswers.take(from, status.listening, now)) this.answerListener(from, status.listening);
    if (validator && status.echo !== 0n && status.echo === this.listenNonce && this.echoesTaken.take(from, status.echo, now)) {
      await this.onEcho(from, status.yours, status.height === this.consensusHeight());
    }
    const head = this.ledger.head;
    if (status.committedHeight > head.height) {
      const peer = this.syncPeerAbove(head.height);
      if (peer !== undefined) this.requestSync(peer);
    }
    else if (status.committedHeight === head.height && head.height > 0n && !head.headerHash.equals(status.committedBatchId)) this.requestForkCheck(from, head.height);
    if (this.core !== undefined && validator && status.height === this.consensusHeight()) this.resendRound(from, status);
  }

  private async onSyncRequest(from: string, fromHeight: bigint, count: number): Promise<void> {
    // A request of a few bytes costs reading, decoding and encoding up to syncBatchesMax batches.
    const now = this.options.timers.now();
    const answered = (this.syncAnsweredAt.get(from) ?? []).filter((at) => now - at < this.tuning.statusIntervalMs);
    if (answered.length >= SYNC_ANSWERS_PER_STATUS_INTERVAL_MAX) return;
    this.syncAnsweredAt.set(from, [...answered, now]);
    const read: SyncedBatch[] = [];
    const last = this.ledger.head.height;
    for (let height = fromHeight; height <= last && read.length < Math.min(count, this.tuning.syncBatchesMax); height++) {
      const synced = await readSyncedBatch(this.ledger.store, height);
      if (synced !== undefined) read.push(synced);
    }
    const batches = syncAnswerFitting(read, this.options.federation.parameters.messageBytesMax);
    if (batches.length > 0) this.options.transport.send(from, encodePeerMessage({ kind: { $case: "syncResponse", value: { batches } } }));
  }

  /** Applies synced heights in order, each checked as valid(v) and by its certificate: no peer is trusted. */
  private async onSyncResponse(from: string, batches: readonly SyncedBatch[]): Promise<void> {
    // Only what this replica asked that peer for: unasked certificates of past heights were each
    // compared with ours (each could name double signers, kept forever), unasked batches checked.
    // The answer to a sync starts at the height asked: a fork check's answer, from the same peer,
    // must not take the sync's place.
    const firstHeight = batches[0]?.batch === undefined ? undefined : decodedHeader(batches[0].batch.header)?.height;
    const inFlight = this.syncInFlight;
    const asked = inFlight?.peer === from && firstHeight === inFlight.fromHeight;
    if (asked) {
      this.syncInFlight = undefined;
      this.syncPeers.answered(from, this.options.timers.now() - inFlight.askedAt);
      // Until this answer turns out useful (see the end).
      this.passOverForSync(from);
    }
    const forkCheck = this.forkChecks.get(from)?.height;
    if (!asked && forkCheck === undefined) return;
    let applied = 0;
    let forkAt: bigint | undefined;
    // Whatever ends the walk (a malformed batch after good ones, a batch that does not check), the
    // batches applied are followed up: a node whose log moved on while its core stayed at the old
    // height never voted again, and one Byzantine validator's answer could stall a federation.
    // (Not after an error of this node's own, a disk's say: it stops without another step.)
    try {
      for (const synced of batches.slice(0, this.tuning.syncBatchesMax)) {
        if (synced.batch === undefined || synced.certificate === undefined) break;
        const header = decodedHeader(synced.batch.header);
        const head = this.ledger.head;
        if (header === undefined) break;
        if (header.height <= head.height) {
          if (header.height === forkCheck) this.forkChecks.set(from, { height: forkCheck, until: Infinity });
          if (asked || header.height === forkCheck) await this.compareCommitted(header.height, synced.certificate);
          continue;
        }
        if (!asked || header.height !== head.height + 1n) continue;
        // The certificate must name this very batch before its statements' signatures are checked.
        if (synced.certificate.height !== header.height || !batchIdOf(synced.batch.header).equals(synced.certificate.valueId)) break;
        if (!head.headerHash.equals(header.previousHeaderHash)) {
          forkAt = head.height;
          break;
        }
        const assembled = await this.checkAgainstLog(synced.batch);
        await this.ledger.commit(assembled, synced.certificate);
        applied++;
      }
    } catch (error) {
      if (applied > 0 && error instanceof HashfedError) await this.afterSyncApplied(from, { full: false, passOver: true });
      throw error;
    }
    // It is up, whatever the age of its last status by now: checking a long answer (16,000
    // signatures) can take longer than SyncPeers lets a status count.
    if (asked) this.syncPeers.heard(from, this.options.timers.now());
    if (applied > 0) {
      const full = forkAt === undefined && this.isFullAnswer(batches, applied);
      // Short of what the peer said it had when asked (a status it sent since may say more): passed
      // over like a peer whose request lapsed. A Byzantine validator answering one batch at a time,
      // late, asked first each time, had held a catching-up node back.
      await this.afterSyncApplied(from, { full, passOver: !full && inFlight!.claimed > this.ledger.head.height });
    }
    if (forkAt !== undefined) this.requestForkCheck(from, forkAt);
  }

  /**
   * After batches from `from` were applied: listen again, or step the core to the new height and
   * join it (each asks again while behind). An observer asks again at once after a `full` answer,
   * while peers say they have more (see SyncPeers for which): it had waited for a peer's next status
   * each time, one answer a status interval. Only after a full one: a Byzantine peer answering one
   * batch at a time, asked again at once, kept an observer from ever asking the others.
   */
  private async afterSyncApplied(from: string, { full, passOver }: { full: boolean; passOver: boolean }): Promise<void> {
    if (!passOver) this.syncPeers.restore(from);
    if (this.listening) this.listen();
    else if (this.core !== undefined) {
      if (!this.core.isDecided) await this.stepCore({ kind: "synced", height: this.core.roundState.height });
      await this.joinConsensus();
    } else if (full) {
      const next = this.syncPeerAbove(this.ledger.head.height);
      if (next !== undefined) this.requestSync(next);
    }
  }

  /**
   * Whether an answer, all of it applied, is as full as a correct peer's: as many batches as asked,
   * or cut where the next batch would not have fitted the message (more bytes than a message holds
   * but the largest batch), and more than half a message either way: where one batch may nearly
   * fill a message, a single small batch would pass the first bound. Its size is what its batches
   * carry (syncAnswerContentBytes): a peer padding a one-batch answer had made it look full.
   */
  private isFullAnswer(batches: readonly SyncedBatch[], applied: number): boolean {
    if (applied !== batches.length) return false;
    if (applied === this.tuning.syncBatchesMax) return true;
    const { parameters } = this.options.federation;
    const cutAt = Math.max(parameters.messageBytesMax / 2, parameters.messageBytesMax - largestBatchBytes(parameters, this.validators.length));
    return syncAnswerContentBytes(batches) > cutAt;
  }

  // ---- statements ----------------------------------------------------------------------------

  /**
   * Checks the signatures of gossiped statements without holding the input queue for them: votes
   * and proposals waiting behind those checks were held up for hundreds of milliseconds under load.
   * (A node's verifier checks a few signatures in place, which costs less than handing them to a
   * worker, and many on its workers.) Admitting the valid ones is queued like any input.
   */
  private checkGossip(from: string, statements: readonly GossipedStatement[]): void {
    if (this.gossipIgnores.ignores(from, this.options.timers.now())) return;
    // The checks run beside the input queue, so its bound does not hold them: a peer with more under
    // way than this is sending faster than any node checks, and what it sends meanwhile is dropped
    // like a lost message (a statement comes again with the proposal that names it).
    const inFlight = this.checkingFrom.get(from) ?? 0;
    if (inFlight + statements.length > GOSSIP_CHECKS_IN_FLIGHT_PER_PEER_MAX) return;
    // Every statement comes from several peers: known ones are dropped by id, before the costlier parse.
    // A copy with a bad signature checked first costs the good copies until another comes: the
    // next regossip, or the proposal that names the statement.
    // Plain loops: flatMap's array per statement cost more than the checks around it here.
    const checking: string[] = [];
    const parsed: { entry: BatchEntry; member: Member; key: string }[] = [];
    for (const gossiped of statements) {
      if (gossiped.entry === undefined) continue;
      const id = statementIdOf(gossiped.entry.statement);
      const key = statementIdKey(id);
      if (this.checking.has(key) || this.mempool.has(key) || this.ledger.indexOf(id) !== undefined) continue;
      this.checking.set(key, undefined);
      checking.push(key);
      const admissible = parseGossiped(this.options.federation, gossiped, id);
      if (admissible !== undefined) parsed.push({ entry: admissible.entry, member: admissible.member, key });
    }
    if (checking.length === 0) return;
    const checks = this.verifier.verify(
      "statement",
      parsed.map(({ entry, member }) => ({ key: member.key, bytes: entry.signed.bytes, signature: entry.signed.signature })),
    );
    parsed.forEach(({ entry, key }, position) => this.checking.set(key, { entry, signature: entry.signed.signature, results: checks, position }));
    this.checkingFrom.set(from, inFlight + checking.length);
    checks.then(
      (valid) =>
        this.enqueue(() => {
          this.checkingFrom.set(from, this.checkingFrom.get(from)! - checking.length);
          for (const key of checking) this.checking.delete(key);
          const forged = parsed.find((_, i) => !valid[i]);
          if (forged !== undefined) this.ignoreGossipOf(from, forged.entry);
          return this.admitGossip(from, parsed.filter((_, i) => valid[i]).map(({ entry }) => entry));
        }),
      (error: unknown) => this.fail(error),
    );
  }

  private ignoreGossipOf(from: string, forged: BatchEntry): void {
    if (!this.gossipIgnores.ignore(from, this.options.timers.now())) return;
    this.options.log?.(
      `${this.name}: ignores the statements ${from} gossips for ${FORGED_GOSSIP_IGNORED_MS / 60_000} minutes: it sent one signed as ${forged.signed.statement.submitter} ` +
        `whose signature does not verify, which a correct node never passes on`,
    );
  }

  private async admitGossip(from: string, entries: readonly BatchEntry[]): Promise<void> {
    for (const entry of entries) this.verified.add(entry.signed);
    await this.announce(this.addToMempool(entries), from);
  }

  /**
   * Adds the statements not yet committed or pending to the mempool; returns those added. A
   * retraction of an entry retracted is refused here, for good, so that a copy sent again by a peer
   * that has not dropped it yet does not come back. (Not an add of a live signal: this node may be
   * behind a retraction of that signal, after which the add may commit.)
   */
  private addToMempool(entries: readonly BatchEntry[]): BatchEntry[] {
    const fresh = entries.filter((entry) => this.ledger.indexOf(entry.signed.id) === undefined && !this.mempool.has(entry.signed.key));
    return fresh.filter((entry) => {
      const body = entry.signed.statement.body!;
      const refused = body.$case === "retract" ? this.targetRetracted(body.value.target as StatementId) : undefined;
      if (refused !== undefined) {
        this.reject(entry, refused);
        return false;
      }
      try {
        return this.mempool.add(entry);
      } catch (error) {
        if (!(error instanceof HashfedError)) throw error;
        this.reject(entry, error);
        return false;
      }
    });
  }

  /** Passes newly admitted statements on (see flushGossip), and wakes the core if the height was idle. */
  private async announce(admitted: readonly BatchEntry[], from: string | undefined): Promise<void> {
    if (admitted.length === 0) return;
    if (this.outgoing.length === 0) this.schedule(0, () => this.flushGossip());
    for (const entry of admitted) this.outgoing.push({ entry, from });
    if (this.core !== undefined && !this.listening && !this.core.isDecided) await this.stepCore({ kind: "work" });
    await this.answerValueRequest();
  }

  /**
   * Sends each peer the statements admitted since the last flush, except those it sent us or
   * signed itself, and except those the submitter's own node sent us: that node sends its
   * statements to every peer itself, and a copy that went missing reaches the peer with the
   * proposal that names it, or comes again if consensus stalls (see regossip). Under load,
   * statements admitted one by one travel in a few messages instead of one each. Every peer that
   * neither sent nor signed any of them gets the same messages, encoded once.
   */
  private flushGossip(): void {
    const outgoing = this.outgoing.filter(({ entry, from }) => from === undefined || from !== entry.signed.statement.submitter);
    this.outgoing = [];
    const skips = (peer: string, { entry, from }: (typeof outgoing)[number]): boolean => from === peer || entry.signed.statement.submitter === peer;
    let forEveryPeer: Buffer[] | undefined;
    for (const peer of this.peers) {
      const messages = outgoing.some((item) => skips(peer, item))
        ? gossipMessages(outgoing.filter((item) => !skips(peer, item)).map(({ entry }) => entry))
        : (forEveryPeer ??= gossipMessages(outgoing.map(({ entry }) => entry)));
      for (const bytes of messages) this.sendBytesTo(peer, bytes);
    }
  }

  /**
   * Every peer gets the oldest pending statements again, whoever sent or signed them (a node that
   * restarted may have lost its own), at a tick with no commit since the tick before. While heights
   * commit, a validator sends nothing again: the validator that holds a statement proposes it in its
   * turn, and a peer that lacks it then asks for that batch whole. Under load the oldest pending
   * statements are queued, not lost, and each copy sent again cost every peer a decode and a hash:
   * at seven validators, more copies than new statements. An observer proposes nothing, so it sends
   * its oldest pending statements again at every tick.
   */
  private regossip(): void {
    const height = this.ledger.head.height;
    const committed = height !== this.regossipHeight;
    this.regossipHeight = height;
    if (committed && this.core !== undefined) return;
    for (const bytes of gossipMessages(this.mempool.oldest(GOSSIP_STATEMENTS_PER_MESSAGE))) {
      for (const peer of this.peers) this.sendBytesTo(peer, bytes);
    }
  }

  // ---- consensus -----------------------------------------------------------------------------

  /** The height consensus works on: the one after the last committed batch. */
  private consensusHeight(): bigint {
    return this.ledger.head.height + 1n;
  }

  /** Starts consensus for the next height, resuming from the write-ahead state after a restart. */
  private async beginHeight(): Promise<void> {
    const core = this.core!;
    const height = this.consensusHeight();
    this.values = new Map();
    this.requestedValues = new Set();
    this.uncheckedValues = new Set();
    this.encodedProposals = new Map();
    this.recentSends.clear();
    this.heldPrecommits = new Map();
    this.heldByValidator = new Map();
    this.valuesByRound = new Map();
    this.roundsAhead.clear();
    this.waitingForValue = undefined;
    this.heightStartedAt = this.options.timers.now();
    for (const handle of this.heightTimers) this.cancel(handle);
    this.heightTimers = [];
    const saved = this.wal.roundState;
    const hasWork = this.mempool.size > 0;
    if (saved !== undefined && saved.height === height && core.roundState.height !== height) {
      for (const bytes of this.wal.batchesAtHeight(height)) {
        const batch = Batch.decode(bytes);
        const value = ProposedValue.received(batch);
        value.recorded = true;
        this.values.set(batchIdOf(batch.header).toString("hex"), value);
      }
      await this.apply(core.resume(this.asSigned(saved), hasWork));
      for (const bytes of this.wal.signedAtHeight(height)) await this.sendOwn(bytes);
    } else if (core.roundState.height < height) {
      await this.apply(core.step({ kind: "startHeight", height, hasWork }));
    }
    this.wal.forgetBelow(height);
    for (const { from, message } of this.futureMessages.take()) await this.handle(from, message);
  }

  /**
   * The saved round state at the step its round's signed messages reached. A core step's outputs
   * are recorded one synced write each, every one with the core's state after the whole step: a
   * crash between two (its prevote recorded, its precommit not) left a state at precommit with no
   * precommit signed, from which the core would never sign one, nor time out. The core reaches a
   * step only by signing its message, so the messages on disk say which step it is at; its locks
   * and valid value are kept (a lock only narrows what it may prevote).
   */
  private asSigned(saved: RoundState): RoundState {
    const signed = (kind: Slot["kind"]): boolean => this.wal.signedAt({ height: saved.height, round: saved.round, kind }) !== undefined;
    const step = signed("precommit") ? Step.Precommit : signed("prevote") ? Step.Prevote : Step.Propose;
    return step < saved.step ? { ...saved, step } : saved;
  }

  private async stepCore(input: ConsensusInput<Signed>): Promise<void> {
    await this.apply(this.core!.step(input));
  }

  /** Carries out the core's outputs in order; each may feed the core again. */
  private async apply(outputs: readonly ConsensusOutput<Signed>[]): Promise<void> {
    for (const output of outputs) {
      switch (output.kind) {
        case "vote":
          await this.castVote(output.voteKind, output.height, output.round, output.valueId);
          break;
        case "propose":
          await this.castProposal(output.height, output.round, output.valueId, output.validRound);
          break;
        case "needValue":
          this.waitingForValue = { height: output.height, round: output.round };
          await this.answerValueRequest();
          break;
        case "checkValue":
          await this.checkValue(output.valueId);
          break;
        case "scheduleTimeout": {
          // A decision's outputs can end with a timeout of the height it just decided and left.
          if (output.height < this.consensusHeight()) break;
          const input = { kind: "timeout" as const, timeout: output.timeout, height: output.height, round: output.round };
          if (input.timeout === "propose") this.scheduleProposeTimeout(input, output.delayMs);
          else this.heightTimers.push(this.later(output.delayMs, () => this.deliverTimeout(input)));
          break;
        }
        case "decide":
          await this.commitDecision(output.height, output.round, output.valueId, output.precommits.map((vote) => (vote.payload as { vote: SignedVote }).vote));
          break;
        case "evidence":
          await this.recordEvidence(evidenceOf(output.first, output.second));
          break;
      }
    }
  }

  /** Hands a timeout to the core, which ignores it unless its height, round and step are current. */
  private deliverTimeout(input: ConsensusInput<Signed> & { kind: "timeout" }): Promise<void> | undefined {
    return this.listening ? undefined : this.stepCore(input);
  }

  /**
   * Whether the round's proposer, another validator, has sent this node nothing (nor a proposal or
   * vote of this height through others) for a propose timeout or more as the round starts, and at
   * least a status interval longer than it counts as alive: a node stopped or cut off (see
   * scheduleProposeTimeout). A proposer never heard from is given its time (this node may have just
   * started); timeouts decide nothing about safety.
   */
  private proposerSilent(height: bigint, round: number, proposeMs: number): boolean {
    const proposer = proposerOf(this.validators, height, round);
    const silentMs = Math.max(proposeMs, this.proposerAliveMs(proposeMs) + this.tuning.statusIntervalMs);
    return proposer !== this.name && this.peerHeights.silentFor(proposer, this.options.timers.now(), silentMs);
  }

  /**
   * L57's timeout, a propose timeout from now; for a silent proposer (proposerSilent) it fires after
   * SILENT_PROPOSER_GRACE_STATUS_INTERVALS instead, unless the proposer has spoken by then (a stall,
   * a clock step), when it gets the rest of its propose timeout.
   */
  private scheduleProposeTimeout(input: ConsensusInput<Signed> & { kind: "timeout" }, proposeMs: number): void {
    const now = this.options.timers.now();
    const latest = now + (1 + PROPOSER_WAIT_TIMEOUTS_MAX) * proposeMs;
    const fire = (): Promise<void> | undefined => this.proposeTimeout(input, proposeMs, latest);
    if (!this.proposerSilent(input.height, input.round, proposeMs)) {
      this.heightTimers.push(this.later(proposeMs, fire));
      return;
    }
    const graceMs = Math.min(proposeMs, SILENT_PROPOSER_GRACE_STATUS_INTERVALS * this.tuning.statusIntervalMs);
    this.heightTimers.push(
      this.later(graceMs, () => {
        if (this.proposerSilent(input.height, input.round, proposeMs)) return fire();
        this.heightTimers.push(this.later(Math.max(0, now + proposeMs - this.options.timers.now()), fire));
        return undefined;
      }),
    );
  }

  /** How long a proposer counts as alive without a message: two status intervals or half a propose timeout, whichever is longer. */
  private proposerAliveMs(proposeMs: number): number {
    return Math.max(2 * this.tuning.statusIntervalMs, proposeMs / 2);
  }

  /**
   * L57: a propose timeout reaches the core only once the round's proposer has had a propose
   * timeout's worth of time at this height, as far as its statuses tell, and no later than `latest`.
   * Under load a validator can finish a height a second after the others (at 7 validators on two
   * cores, one in seven heights had such a proposer), and its proposal then came after their
   * timeouts had thrown its round away: a second or two lost, where waiting costs a fraction of
   * that. Timeouts decide nothing about safety. A proposer counts as silent after two status
   * intervals or half a propose timeout without a message, whichever is longer.
   */
  private proposeTimeout(input: ConsensusInput<Signed> & { kind: "timeout" }, proposeMs: number, latest: number): Promise<void> | undefined {
    const { height, round, step } = this.core!.roundState;
    if (input.height !== height || input.round !== round || step !== Step.Propose) return this.deliverTimeout(input);
    const proposer = proposerOf(this.validators, input.height, input.round);
    const now = this.options.timers.now();
    const aliveMs = this.proposerAliveMs(proposeMs);
    // The node's own rounds need no check: it never reports to itself, so PeerHeights knows nothing of it.
    const due = this.peerHeights.proposerDue(proposer, input.height, now, proposeMs, aliveMs);
    if (due === undefined || now >= latest) return this.deliverTimeout(input);
    // At least a millisecond: on a clock of fractions, a due time a rounding error away would
    // come back at the same instant, again and again; the wait stays bounded by `latest`.
    const waitMs = Math.max(1, Math.min(due, latest) - now);
    this.heightTimers.push(this.later(waitMs, () => this.proposeTimeout(input, proposeMs, latest)));
    return undefined;
  }

  /**
   * L18: the proposer builds a batch from the mempool, now or when statements arrive, but not
   * before batchGatherMs after the height started.
   */
  private async answerValueRequest(): Promise<void> {
    const request = this.waitingForValue;
    if (request === undefined || this.core === undefined || request.height !== this.core.roundState.height || request.round !== this.core.roundState.round) return;
    const { federation, signer, timers } = this.options;
    if (this.mempool.size === 0) return;
    const gatheredAt = this.heightStartedAt + this.tuning.batchGatherMs;
    if (timers.now() < gatheredAt) {
      if (!this.gatherScheduled) {
        this.gatherScheduled = true;
        this.later(gatheredAt - timers.now(), () => {
          this.gatherScheduled = false;
          return this.answerValueRequest();
        });
      }
      return;
    }
    const fitting = this.fittingPending();
    if (fitting.length === 0) return;
    const batch = assembleBatch(federation, this.ledger.head, fitting, { proposer: signer.name, proposerTimeMs: BigInt(Math.floor(timers.now())) });
    this.waitingForValue = undefined;
    const valueId = batch.id.toString("hex");
    this.values.set(valueId, ProposedValue.built(batch));
    await this.stepCore({ kind: "valueReady", height: request.height, round: request.round, valueId });
  }

  /**
   * The oldest pending statements that fit the log as it stands, up to a batch; those a rule of the
   * log or withoutRepeatedSignals refuses leave the mempool and are reported. Those that clash only
   * with one taken (see fitCandidates) stay pending: once that one commits, they are refused by the
   * log, and their submitter's node acknowledges the entry that did what they do. The mempool is
   * gone through as far as it takes to fill a batch: a member that flooded it with statements the
   * log refuses had kept every statement behind them out of batches (a proposer looked at the oldest
   * batchEntriesMax only, and proposed nothing when none fit), and the federation stalled.
   */
  private fittingPending(): BatchEntry[] {
    const { federation } = this.options;
    const candidates = this.withoutRepeatedSignals(this.mempool.inAgeOrder());
    const { accepted, rejected } = fitCandidates(federation, this.ledger.state, candidates);
    for (const { entry, error } of rejected) {
      this.mempool.remove(entry.signed.key);
      this.reject(entry, error);
    }
    return accepted;
  }

  /**
   * A member adds a signal once while it is live: a statement adding a signal its submitter already
   * has on the log is left out and reported (SIGNAL_ALREADY_LIVE), so that the submitting node can
   * acknowledge the existing entry; one repeating a signal earlier among the candidates waits for a
   * later batch, which finds the first on the log, or not, and so does one adding a signal whose
   * live entry a pending retraction withdraws (see signalLive). This happens when a node forgot its
   * pending statements in a crash and its member submitted them again. It is the proposer's policy,
   * not a rule of valid(v): the commitment hides the value from the log's rules.
   */
  private *withoutRepeatedSignals(candidates: Iterable<PendingStatement>): Iterable<BatchEntry> {
    const seen = new Set<string>();
    for (const { entry, purpose } of candidates) {
      const adds = addsASignal(purpose);
      const refused = adds ? this.signalLive(entry) : undefined;
      if (refused === "replaced") continue;
      if (refused !== undefined) {
        this.mempool.remove(entry.signed.key);
        this.reject(entry, refused);
      } else if (!adds || !seen.has(purpose)) {
        if (adds) seen.add(purpose);
        yield entry;
      }
    }
  }

  /**
   * SIGNAL_ALREADY_LIVE if `entry` adds a signal its submitter has on the log, live; "replaced" if a
   * retraction of that entry is pending: the member is replacing it (to change its labels, say), and
   * the add waits for the retraction to commit. (Acknowledging the entry being retracted instead had
   * left the signal off the list.)
   */
  private signalLive(entry: BatchEntry): HashfedError | "replaced" | undefined {
    const body = entry.signed.statement.body!;
    if (body.$case !== "addSignal" || entry.reveal === undefined) return undefined;
    const submitter = entry.signed.statement.submitter;
    const live = this.ledger.index
      .match(body.value.signalType as SignalTypeName, entry.reveal.value, 0)
      .find((hit) => this.ledger.state.submitterAt(hit.logIndex) === submitter);
    if (live === undefined) return undefined;
    if (this.mempool.retracts(this.ledger.state.statementIdAt(live.logIndex), submitter)) return "replaced";
    return new HashfedError(
      "exists",
      "SIGNAL_ALREADY_LIVE",
      `${submitter} already has this ${body.value.signalType} signal on the log, live at log index ${live.logIndex}; retract that entry to replace it`,
    );
  }

  /**
   * Why the log as committed here refuses `entry` now, if it does: its signal is live for its
   * submitter (until the signal is retracted), or its target is retracted (for good). A target not
   * on the log yet may be committed later.
   */
  private doneOnTheLog(entry: BatchEntry): HashfedError | undefined {
    const body = entry.signed.statement.body!;
    if (body.$case !== "retract") {
      const live = this.signalLive(entry);
      return live === "replaced" ? undefined : live;
    }
    return this.targetRetracted(body.value.target as StatementId);
  }

  private targetRetracted(target: StatementId): HashfedError | undefined {
    const index = this.ledger.indexOf(target);
    const by = index === undefined ? undefined : this.ledger.state.retractedBy(index);
    return by === undefined ? undefined : new HashfedError("precondition", "RETRACT_TWICE", `statement ${target.toString("hex")} was already retracted by the entry at log index ${by}`);
  }

  /** valid(v): the batch of a proposal, checked against the log as it stands (once the batch is here: the core asks once). */
  private async checkValue(valueId: string): Promise<void> {
    if (!this.values.has(valueId)) {
      this.uncheckedValues.add(valueId);
      return;
    }
    await this.stepCore({ kind: "valueChecked", valueId, valid: (await this.ensureChecked(valueId)) !== undefined });
  }

  private async castVote(kind: "prevote" | "precommit", height: bigint, round: number, valueId: string | null): Promise<void> {
    const slot: Slot = { height, round, kind };
    const { federation, signer } = this.options;
    const value = valueId === null ? undefined : this.values.get(valueId);
    const checked = value?.checked;
    const vote: Vote = {
      federationId: federation.id,
      type: kind === "prevote" ? VoteType.VOTE_TYPE_PREVOTE : VoteType.VOTE_TYPE_PRECOMMIT,
      height,
      round,
      valueId: valueId === null ? Buffer.alloc(0) : Buffer.from(valueId, "hex"),
      validator: signer.name,
      checkpointSignature: kind === "precommit" && checked !== undefined ? noteSignatureBytes(signer.signNote(checked.checkpointBody)) : Buffer.alloc(0),
    };
    // A precommit for a batch is a lock on it: the batch is kept with it, unless kept already.
    const locked = kind === "precommit" && value?.checked !== undefined && !value.recorded ? value : undefined;
    await this.signAndSend(slot, () => ({ kind: { $case: "vote", value: signVote(signer, vote) } }), locked === undefined ? undefined : () => batchToRecord(locked));
  }

  private async castProposal(height: bigint, round: number, valueId: string, validRound: number): Promise<void> {
    const value = this.values.get(valueId);
    // A batch kept whole (received, or restored after a restart) has its reference made once it is checked.
    const reference = value !== undefined && (await this.ensureChecked(valueId)) !== undefined ? value.reference : undefined;
    if (value === undefined || reference === undefined) return;
    const { federation, signer } = this.options;
    const proposal = { federationId: federation.id, height, round, validRound, valueId: Buffer.from(valueId, "hex"), proposer: signer.name };
    await this.signAndSend(
      { height, round, kind: "proposal" },
      () => ({ kind: { $case: "proposal", value: { proposal: signProposal(signer, proposal), batch: reference } } }),
      () => batchToRecord(value),
    );
  }

  /**
   * The double-sign guard: a slot already signed sends its stored message again, unchanged; a slot
   * at or below one signed before is not signed; otherwise the message is signed, persisted with the
   * round state (synced) and, for a proposal, its encoded batch, and only then sent. The node then
   * hears its own message like a peer's.
   */
  private async signAndSend(slot: Slot, make: () => PeerMessage, batch?: () => Buffer): Promise<void> {
    let bytes = this.wal.signedAt(slot);
    if (bytes === undefined) {
      if (!this.wal.maySign(slot) || slot.height <= this.decidedElsewhere()) return;
      bytes = encodePeerMessage(make());
      await this.wal.record(slot, bytes, this.core!.roundState, batch?.());
    }
    await this.sendOwn(bytes);
  }

  /** Sends a message this validator signed to every peer not sent it lately, then hears it like a peer's. */
  private async sendOwn(bytes: Buffer): Promise<void> {
    const message = decodePeerMessage(bytes);
    const signature = signatureOf(message);
    const now = this.options.timers.now();
    for (const peer of this.peers) if (signature === undefined || this.recentSends.admit(peer, signature, now)) this.sendBytesTo(peer, bytes);
    await this.dispatch(this.name, message);
  }

  private async commitDecision(height: bigint, round: number, valueId: string, precommits: SignedVote[]): Promise<void> {
    const checked = this.values.get(valueId)?.checked;
    assert(checked !== undefined, "the core decides only on a value it saw checked valid");
    const certificate: CommitCertificate = { height, round, valueId: Buffer.from(valueId, "hex"), precommits };
    // Every precommit counted was checked on arrival and the value checked valid, so the ledger's own
    // checks pass; one that fails is a bug. Any other failure (the disk's) stops the node as it is.
    await this.ledger.commit(checked, certificate).catch((error: unknown) => {
      if (error instanceof HashfedError) throw new AssertionError(`the ledger refused a decision: ${error.message}`);
      throw error;
    });
    await this.joinConsensus();
  }

  /** A message of this validator's that it has no record of: its disk is older than its signatures. */
  private async adoptOwn(slot: Slot, message: PeerMessage): Promise<void> {
    if (slot.height < this.consensusHeight() || this.wal.signedAt(slot) !== undefined) return;
    // Past its listening, a message under this validator's key that it never signed is one it
    // signed before its disk was restored, held by a peer that was cut off (adopted, as in the
    // listening), or one another node running with the key signs now: the two then sign
    // conflicting messages, evidence against the member. A restore's late messages are of the one
    // or two heights its peers were at; another node's go on, height after height: at the third
    // height, this one stops, the safe side.
    if (this.core !== undefined && !this.listening && this.listenNonce === 0n) {
      this.unsignedOwnHeights.add(slot.height);
      if (this.unsignedOwnHeights.size >= KEY_IN_USE_ELSEWHERE_HEIGHTS) {
        this.fail(
          new HashfedError(
            "precondition",
            "KEY_IN_USE_ELSEWHERE",
            `another node signs with ${this.name}'s key: peers sent messages under it that this node never signed, at heights ${[...this.unsignedOwnHeights].join(", ")}; stopping, so that the two do not sign conflicting votes. Run one node per member key`,
          ),
        );
        return;
      }
    }
    if (await this.wal.adopt(slot, encodePeerMessage(message))) this.options.log?.(`${this.name}: adopted a message it signed before its disk was restored (${slot.height}/${slot.round}/${slot.kind})`);
  }

  // ---- relay and catch-up --------------------------------------------------------------------

  private sendStatus(): void {
    const bytes = encodePeerMessage({ kind: { $case: "status", value: this.status() } });
    if (!this.closed) for (const member of this.members) this.options.transport.send(member, bytes);
  }

  private status(): PeerStatus {
    const round = this.core?.roundState.round ?? 0;
    const head = this.ledger.head;
    return {
      height: this.consensusHeight(),
      round,
      committedHeight: head.height,
      committedBatchId: head.headerHash,
      listening: this.listening ? this.listenNonce : 0n,
      echo: 0n,
      yours: [],
      ...this.heldInRound(round),
    };
  }

  /** What this replica holds of its current round, for the status: peers then re-send only the rest. */
  private heldInRound(round: number): Pick<PeerStatus, "proposalValueId" | "prevoters" | "precommitters"> {
    const core = this.core;
    if (core === undefined || this.listening || core.roundState.height !== this.consensusHeight()) {
      return { proposalValueId: Buffer.alloc(0), prevoters: Buffer.alloc(0), precommitters: Buffer.alloc(0) };
    }
    const proposal = core.proposalIn(round);
    const votes = core.votes.votesInRound(round);
    const voters = (kind: "prevote" | "precommit"): Buffer => voterBitmap(this.validators, votes.filter((vote) => vote.kind === kind).map((vote) => vote.validator));
    return {
      proposalValueId: proposal !== undefined && this.values.has(proposal.valueId) ? Buffer.from(proposal.valueId, "hex") : Buffer.alloc(0),
      prevoters: voters("prevote"),
      precommitters: voters("precommit"),
    };
  }

  /**
   * Sends a peer at our height the proposal and votes we hold for its round and ours, and the votes
   * of the rounds those proposals and our valid value name: a proposal re-proposed from round vr is
   * accepted only with the polka of vr, which a peer that missed it gets from nowhere else
   * (reference/consensus.md §1.4 erratum 7). Of the peer's own round, only what its status says it
   * lacks: another proposal than the one it holds, and the votes of validators it has none from, or
   * all of a validator's votes if that validator signed several (each may count, erratum 6). A vote
   * goes again at most once a status interval (RecentSends); a proposal at most once
   * proposalResendMs (a propose timeout, 1 s by default, never more than five status intervals): a
   * batch of thousands of statements takes longer than a status interval to be checked at a busy
   * peer, and each early copy, relayed by every other validator, made that peer slower still (when
   * proposals carried their batches whole, 7 validators under load committed a fifth to a quarter
   * more without them). The price: a
   * proposal lost on the way arrives again only about when the receiver's propose timeout fires, so
   * that receiver's round is usually lost (it prevotes nil) and the next round proceeds.
   */
  private resendRound(peer: string, status: PeerStatus): void {
    const core = this.core!;
    const current = [status.round, core.roundState.round];
    const polkas = [core.roundState.validRound, ...current.map((r) => core.proposalIn(r)?.validRound ?? -1)];
    const rounds = new Set([...current, ...polkas.filter((r) => r >= 0)]);
    const now = this.options.timers.now();
    const resend = (signature: Uint8Array, message: () => Buffer[], intervalMs?: number): void => {
      if (this.recentSends.admit(peer, signature, now, intervalMs)) for (const bytes of message()) this.sendBytesTo(peer, bytes);
    };
    for (const r of rounds) {
      const theirs = r === status.round ? status : undefined;
      const proposal = core.proposalIn(r);
      if (proposal !== undefined && "proposal" in proposal.payload && valueIdOf(theirs?.proposalValueId ?? Buffer.alloc(0)) !== proposal.valueId) {
        resend(proposal.payload.proposal.signature, () => this.proposalMessage(proposal), this.proposalResendMs);
      }
      const votes = core.votes.votesInRound(r);
      const signedBy = new Map<string, number>();
      for (const vote of votes) signedBy.set(`${vote.kind}/${vote.validator}`, (signedBy.get(`${vote.kind}/${vote.validator}`) ?? 0) + 1);
      for (const vote of votes) {
        if (!("vote" in vote.payload)) continue;
        const held = theirs !== undefined && bitmapHas(vote.kind === "prevote" ? theirs.prevoters : theirs.precommitters, this.validators.indexOf(vote.validator));
        if (!held || signedBy.get(`${vote.kind}/${vote.validator}`)! > 1) resend(vote.payload.vote.signature, () => this.voteMessage(vote));
      }
    }
  }

  /**
   * A proposal the core holds, as a peer message with its batch's reference. If the batch is not
   * known, none; or, when `bare`, the signed proposal alone: all its signer needs to learn, when it
   * listens after a restore, is that it signed it (a proposal whose batch this node asked for and
   * never got is still one its signer must not sign differently).
   */
  private proposalMessage(proposal: ProposalInput<Signed>, { bare = false } = {}): Buffer[] {
    if (!("proposal" in proposal.payload)) return [];
    const signed = proposal.payload.proposal;
    const reference = this.values.get(proposal.valueId)?.reference;
    if (reference === undefined) return bare ? [encodePeerMessage({ kind: { $case: "proposal", value: { proposal: signed, batch: undefined } } })] : [];
    const key = Buffer.from(signed.signature).toString("base64");
    let bytes = this.encodedProposals.get(key);
    if (bytes === undefined) {
      bytes = encodePeerMessage({ kind: { $case: "proposal", value: { proposal: signed, batch: reference } } });
      this.encodedProposals.set(key, bytes);
    }
    return [bytes];
  }

  private voteMessage(vote: CountedVote<Signed>): Buffer[] {
    return "vote" in vote.payload ? [encodePeerMessage({ kind: { $case: "vote", value: vote.payload.vote } })] : [];
  }

  /**
   * Asks `peer` for the heights after ours, unless a request is in flight, or `peer` let one lapse or
   * answered one with nothing this node could apply lately: a member that claims heights it does
   * not have would otherwise be the one asked whenever its status came first, again and again.
   */
  private requestSync(peer: string): void {
    const now = this.options.timers.now();
    const inFlight = this.syncInFlight;
    if (inFlight !== undefined && inFlight.until > now) return;
    if (inFlight !== undefined) {
      this.passOverForSync(inFlight.peer);
      this.syncPeers.answered(inFlight.peer, now - inFlight.askedAt);
    }
    this.syncInFlight = undefined;
    if (this.syncPeers.isPassedOver(peer, now)) return;
    const fromHeight = this.ledger.head.height + 1n;
    this.syncInFlight = { peer, fromHeight, askedAt: now, until: now + 4 * this.tuning.statusIntervalMs, claimed: this.lastCommittedOf.get(peer) ?? 0n };
    this.sendTo(peer, { kind: { $case: "syncRequest", value: { fromHeight, count: this.tuning.syncBatchesMax } } });
  }

  private passOverForSync(peer: string): void {
    this.syncPeers.passOver(peer, this.options.timers.now() + SYNC_PASS_OVER_STATUS_INTERVALS * this.tuning.statusIntervalMs);
  }

  /**
   * Asks a peer whose chain differs from ours for its batch at `height`, once per height until it
   * answers, and again after four status intervals without an answer: a lost request or answer had
   * left a fork unaccounted for.
   */
  private requestForkCheck(peer: string, height: bigint): void {
    const now = this.options.timers.now();
    const asked = this.forkChecks.get(peer);
    if (asked !== undefined && asked.height === height && asked.until > now) return;
    // A sync asked of that peer from this height or below answers it (its certificates at or below
    // the head are compared), and an answer starting at the sync's height would count as the sync's.
    const sync = this.syncInFlight;
    if (sync !== undefined && sync.peer === peer && sync.until > now && sync.fromHeight <= height) return;
    this.forkChecks.set(peer, { height, until: now + 4 * this.tuning.statusIntervalMs });
    this.sendTo(peer, { kind: { $case: "syncRequest", value: { fromHeight: height, count: 1 } } });
  }

  /**
   * A certificate for a height this replica committed already: if it is for another batch the log
   * has forked, which takes more than f Byzantine validators, and the precommits in both
   * certificates name them.
   */
  private async compareCommitted(height: bigint, theirs: CommitCertificate): Promise<void> {
    const ours = (await this.ledger.store.readBatch(height))?.certificate;
    if (ours === undefined || Buffer.from(ours.valueId).equals(Buffer.from(theirs.valueId))) return;
    // Double signs are evidence however few they are; only a quorum's precommits make a fork: a
    // peer's made-up certificate had been reported as one.
    const found = evidenceFromConflictingCertificates(this.options.federation, ours, theirs);
    for (const evidence of found) await this.recordEvidence(evidence);
    if (theirs.height !== height || !quorumCertifies(this.options.federation, theirs)) return;
    this.options.log?.(`${this.name}: the log forked at height ${height}: a certificate for another batch, naming ${found.length} double signers`);
  }

  private async recordEvidence(evidence: Evidence): Promise<void> {
    const key = evidenceKey(evidence);
    if (this.evidenceKeys.has(key)) return;
    this.evidenceKeys.add(key);
    // Served (Log.GetEvidence) only once on disk: a crash must not take back what a client was shown.
    await this.ledger.store.addEvidence(this.evidence.length, evidence);
    this.evidence.push(evidence);
  }

  /**
   * Keeps a message of the next height until it starts. Later heights are dropped: a replica that
   * far behind syncs them whole, and a Byzantine peer's far-future messages must not crowd out the
   * next height's.
   */
  private keepForLater(from: string, signer: string, height: bigint, message: PeerMessage): void {
    // An observer never takes them: it starts no height.
    if (this.core === undefined) return;
    // Only votes and proposals come here, and both carry a signature.
    if (height === this.consensusHeight() + 1n) this.futureMessages.keep(from, signer, signatureOf(message)!, message);
  }

  private onCommitted(batch: AssembledBatch): void {
    const first = Number(this.ledger.treeSize) - batch.entries.length;
    // Pending statements that do what one just committed did (retract the same entry, add the same
    // signal again) are refused by the log from now on, at every node: a validator had dropped them
    // only when it proposed, and sent them again to the others, which took them back, for good.
    const purposes = batch.entries.map((entry, offset) => {
      this.waiters.committed(entry.signed.key, first + offset);
      return this.mempool.removeCommitted(entry);
    });
    for (const purpose of purposes) {
      for (const same of this.mempool.doingTheSame(purpose)) {
        const refused = this.doneOnTheLog(same);
        if (refused === undefined) continue;
        this.mempool.remove(same.signed.key);
        this.reject(same, refused);
      }
    }
    // A validator learns that a pending statement can no longer go on the log when it proposes; an
    // observer proposes nothing, so its member's statement (a second retraction of one entry, say)
    // would wait forever and hold its place in the mempool. It puts them to the same checks.
    if (this.core === undefined && this.mempool.size > 0) this.fittingPending();
  }

  private reject(entry: BatchEntry, error: HashfedError): void {
    this.waiters.rejected(entry.signed.key, error);
    for (const listener of this.rejectionListeners) listener(entry, error);
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private sendTo(peer: string, message: PeerMessage): void {
    this.sendBytesTo(peer, encodePeerMessage(message));
  }

  private sendBytesTo(peer: string, bytes: Uint8Array): void {
    if (!this.closed) this.options.transport.send(peer, bytes);
  }

  /** Runs `task` after every input before it, one at a time. */
  private enqueue(task: () => Promise<void> | void): void {
    if (this.closed) return;
    this.work = this.work
      .then(() => (this.closed ? undefined : task()))
      .catch((error: unknown) => this.fail(error));
  }

  /** Far better to stop than to go on in a state the code does not understand. */
  private fail(error: unknown): void {
    // After close, work still under way fails as the node's parts stop (its workers end and fail the
    // checks they held): nothing to report, the replica acts on nothing any more.
    if (this.closed) return;
    this.close();
    this.options.onFatal(error);
  }

  private later(delayMs: number, task: () => Promise<void> | void): TimerHandle {
    return this.schedule(delayMs, () => this.enqueue(task));
  }

  private every(intervalMs: number, task: () => void): void {
    const tick = (): void => {
      if (this.closed) return;
      this.enqueue(task);
      this.schedule(intervalMs, tick);
    };
    this.schedule(intervalMs, tick);
  }

  private schedule(delayMs: number, fire: () => void): TimerHandle {
    const handle = this.options.timers.setTimeout(delayMs, () => {
      this.timerHandles.delete(handle);
      fire();
    });
    this.timerHandles.add(handle);
    return handle;
  }

  private cancel(handle: TimerHandle): void {
    if (this.timerHandles.delete(handle)) this.options.timers.clearTimeout(handle);
  }
}

/** A batch encoded for the write-ahead state, which from then on holds it. */
function batchToRecord(value: ProposedValue): Buffer {
  value.recorded = true;
  return Buffer.from(Batch.encode(value.batch).finish());
}

/** The height a batch header claims; malformed bytes are the sender's problem, not a crash. */
function decodedHeader(bytes: Uint8Array): BatchHeader | undefined {
  try {
    return BatchHeader.decode(bytes);
  } catch {
    return undefined;
  }
}

function sameReveal(a: Reveal, b: Reveal): boolean {
  return a.salt.equals(b.salt) && a.value.equals(b.value);
}

function valueIdOf(bytes: Uint8Array): string | null {
  return bytes.length === 0 ? null : Buffer.from(bytes).toString("hex");
}

/** `bytes` as a peer message, with its slot, if it is a vote or proposal signed (as it claims: not yet checked) by `name`. */
function decodeOwn(bytes: Uint8Array, name: string): { message: PeerMessage; slot: Slot } | undefined {
  let message: PeerMessage;
  try {
    message = decodePeerMessage(bytes);
  } catch {
    return undefined;
  }
  const signed = signedOf(message);
  const claimed = signed === undefined ? undefined : claimedSlot(signed);
  return claimed?.signer === name ? { message, slot: claimed.slot } : undefined;
}

/** Who signed a vote or proposal and in which slot, as its bytes claim: decoded, not verified; undefined if they do not decode. */
function claimedSlot(signed: Signed): { signer: string; slot: Slot } | undefined {
  try {
    if ("vote" in signed) {
      const vote = Vote.decode(signed.vote.vote);
      return { signer: vote.validator, slot: slotOfVote(vote) };
    }
    const proposal = Proposal.decode(signed.proposal.proposal);
    return { signer: proposal.proposer, slot: { height: proposal.height, round: proposal.round, kind: "proposal" } };
  } catch {
    return undefined;
  }
}

/** The signature of a signed vote or proposal: what tells one message from another. */
function signatureOf(message: PeerMessage): Uint8Array | undefined {
  const signed = signedOf(message);
  if (signed === undefined) return undefined;
  return "vote" in signed ? signed.vote.signature : signed.proposal.signature;
}

/** The signed vote or proposal a peer message carries, if it carries one. */
function signedOf(message: PeerMessage): Signed | undefined {
  const kind = message.kind;
  if (kind?.$case === "vote") return { vote: kind.value };
  if (kind?.$case === "proposal" && kind.value.proposal !== undefined) return { proposal: kind.value.proposal };
  return undefined;
}

function slotOfVote(vote: Vote): Slot {
  const kind: SignedKind = vote.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : "precommit";
  return { height: vote.height, round: vote.round, kind };
}

/** Statements to gossip, as encoded peer messages of at most GOSSIP_STATEMENTS_PER_MESSAGE each. */
function gossipMessages(entries: readonly BatchEntry[]): Buffer[] {
  const messages: Buffer[] = [];
  for (let i = 0; i < entries.length; i += GOSSIP_STATEMENTS_PER_MESSAGE) {
    const statements = entries.slice(i, i + GOSSIP_STATEMENTS_PER_MESSAGE).map(gossipOf);
    messages.push(encodePeerMessage({ kind: { $case: "statements", value: { statements } } }));
  }
  return messages;
}

function gossipOf(entry: BatchEntry): { entry: { statement: Buffer; signature: Buffer }; reveal: BatchEntry["reveal"] } {
  return { entry: { statement: entry.signed.bytes, signature: entry.signed.signature }, reveal: entry.reveal };
}

/** Whether a quorum of validators signed the certificate's precommits (its batch aside). */
function quorumCertifies(federation: Federation, certificate: CommitCertificate): boolean {
  try {
    verifyCertificateVotes(federation, certificate);
    return true;
  } catch (error) {
    if (error instanceof HashfedError) return false;
    throw error;
  }
}

/**
 * The slot a piece of evidence is about (validator, height, round, kind): one piece proves the
 * equivocation there, and a validator that signs a thousand messages in one slot gets one record,
 * not a synced write and a place in every node's store for each. Evidence reaches here from checked
 * messages only, so its first message is decoded, not verified again.
 */
function evidenceKey(evidence: Evidence): string {
  const kind = evidence.kind!;
  const { signer, slot } = claimedSlot(kind.$case === "duplicateVote" ? { vote: kind.value.first! } : { proposal: kind.value.first! })!;
  return `${signer}/${slot.height}/${slot.round}/${slot.kind}`;
}

function evidenceOf(first: Signed, second: Signed): Evidence {
  if ("vote" in first && "vote" in second) return duplicateVote(first.vote, second.vote);
  return duplicateProposal((first as { proposal: SignedProposal }).proposal, (second as { proposal: SignedProposal }).proposal);
}

