import { createHash } from "node:crypto";
import { type AssembledBatch, type BatchEntry, buildBatch, checkBatch } from "../../src/batch";
import { signProposal, signVote } from "../../src/consensus";
import { KeySigner } from "../../src/crypto";
import { noteSignatureBytes } from "../../src/crypto/signedNote";
import { type Batch, BatchHeader, Proposal, Vote, VoteType } from "../../src/gen/hashfed/v1/batch";
import { type BatchReference, PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { ENTRY_REFERENCE_BYTES, referenceOf, resolveReference } from "../../src/replica/batchReference";
import { encodePeerMessage, wireBatch } from "../../src/replica/peerMessages";
import type { Replica } from "../../src/replica/replica";
import { parseSignedStatement, statementIdKey } from "../../src/statements";
import type { Cluster, SimNode } from "./cluster";
import { peerMessageKind } from "./invariants";
import type { Prng } from "./prng";
import type { Trace } from "./trace";

/**
 * Byzantine validators: nodes whose keys belong to the simulator. Each runs a real replica behind a
 * mischief layer (an outbound filter on the cluster) rather than a scripted adversary. The replica
 * keeps the node plausible: it follows the heights and rounds, builds valid batches and signs real
 * votes, so the mischief lands where it hurts (at the current height and round, with values the
 * correct nodes are weighing) instead of being dropped as stale noise. The layer then lies with
 * the node's own key, bypassing its write-ahead state:
 *
 * - outbound, per message its replica sends: drop it (silence), deliver it to some peers only
 *   (selective delivery), send a conflicting proposal (another valid batch) or vote to half of the
 *   peers (equivocation), replace a proposal's batch with an invalid one, or re-sign a precommit
 *   with a checkpoint signature that does not verify; the batches of its lies go whole to a peer
 *   that asks for them, as its replica's own would; a batch it sends whole may have its entries
 *   reversed (a body its header does not commit to);
 * - on delivery of another validator's proposal, pass it on to a peer with its reference reversed;
 * - on its own ticks: votes for future rounds (to pull correct nodes up with the f+1 rule) and
 *   future heights, replays of old messages (its own and those it received), garbage bytes and
 *   mutated messages, votes with bad signatures or signed by its key in another validator's name,
 *   and status messages that lie about its height (to lure lagging nodes into asking it for sync).
 *
 * Each behaviour is on in a share of seeds (swarm testing) with a rate drawn per seed. Messages a
 * Byzantine node sends are never held against the correct nodes' invariants.
 *
 * `ForkAttack` coordinates more than f of them (the beyond-threshold suite): when one of them
 * proposes, the correct nodes are split in two groups, each shown another valid batch, and every
 * Byzantine validator prevotes and precommits, with a valid checkpoint signature, for the batch the
 * group was shown: both groups can then gather a quorum and decide differently.
 */

export interface ByzantineBehaviour {
  /** Probability that a message its replica sends is dropped (1: a silent node). */
  readonly dropRate: number;
  /** Probability that a message goes to a random subset of the peers only. */
  readonly selectiveRate: number;
  /** Probability that a proposal of its own is sent as two different valid batches to two halves. */
  readonly equivocateProposalRate: number;
  /** Probability that a vote of its own comes with a conflicting one, to half of the peers. */
  readonly doubleVoteRate: number;
  /** Probability that a proposal of its own carries an invalid batch instead. */
  readonly invalidBatchRate: number;
  /** Probability that a precommit for a batch carries a checkpoint signature that does not verify. */
  readonly badCheckpointRate: number;
  /** Mean time between its ticks (ms); each tick rolls every tick behaviour below. */
  readonly tickMeanMs: number;
  readonly futureVoteRate: number;
  readonly replayRate: number;
  readonly garbageRate: number;
  readonly badSignatureRate: number;
  readonly wrongKeyRate: number;
  readonly lyingStatusRate: number;
  /** Probability that a batch it sends whole, or a proposal of another's it passes on, comes with its entries reversed. */
  readonly changedBatchRate: number;
  /** Probability that a sync answer it sends has a malformed entry after its batches (a node had applied them and stalled). */
  readonly cutSyncAnswerRate: number;
}

const BEHAVIOUR_ENABLED_PROBABILITY = 0.5;
const SILENT_NODE_PROBABILITY = 0.1;
const REPLAY_BUFFER_MAX = 256;
const TICK_MEAN_MS_MIN = 20;
const TICK_MEAN_MS_MAX = 300;

/** Draws a behaviour (swarm-style: each misbehaviour on in half the seeds, at a drawn rate). Always the same draws in the same order. */
export function drawBehaviour(prng: Prng): ByzantineBehaviour {
  const rate = (max: number): number => {
    const enabled = prng.chance(BEHAVIOUR_ENABLED_PROBABILITY);
    const value = prng.int(1, 100) / 100;
    return enabled ? value * max : 0;
  };
  const silent = prng.chance(SILENT_NODE_PROBABILITY);
  const behaviour: ByzantineBehaviour = {
    dropRate: rate(0.5),
    selectiveRate: rate(0.5),
    equivocateProposalRate: rate(1),
    doubleVoteRate: rate(1),
    invalidBatchRate: rate(0.5),
    badCheckpointRate: rate(1),
    tickMeanMs: prng.int(TICK_MEAN_MS_MIN, TICK_MEAN_MS_MAX),
    futureVoteRate: rate(1),
    replayRate: rate(1),
    garbageRate: rate(1),
    badSignatureRate: rate(1),
    wrongKeyRate: rate(1),
    lyingStatusRate: rate(1),
    // Drawn last, so that the draws before them are those of the seeds recorded before they existed.
    changedBatchRate: rate(1),
    cutSyncAnswerRate: rate(1),
  };
  return silent ? { ...behaviour, dropRate: 1 } : behaviour;
}

export function describeBehaviour(behaviour: ByzantineBehaviour): string {
  if (behaviour.dropRate === 1) return "silent";
  const parts = Object.entries(behaviour)
    .filter(([name, value]) => name !== "tickMeanMs" && value > 0)
    .map(([name, value]) => `${name.replace(/Rate$/, "")} ${Math.round((value as number) * 100)}%`);
  return `${parts.join(", ") || "honest"}; ticks ~${behaviour.tickMeanMs}ms`;
}

/** How one outgoing message is routed: per destination, the bytes to send, or undefined for nothing. */
type Route = (to: string) => Uint8Array | undefined;

/** Other bytes (undefined: nothing) for some of the peers, instead of the message its replica sent. */
interface Lie {
  readonly bytes: Uint8Array | undefined;
  readonly targets: ReadonlySet<string>;
}

/** Tags of the encoded PeerMessage kinds (field number << 3 | 2). */
const TAG = { proposal: 0x0a, vote: 0x12, status: 0x22, syncResponse: 0x32, proposedBatchRequest: 0x3a, proposedBatch: 0x42 } as const;

export class ByzantineNode {
  private readonly signer: KeySigner;
  private readonly peers: string[];
  private lastBytes: Uint8Array | undefined;
  private lastRoute: Route = () => undefined;
  /** Where its replica last said it stood. */
  private position = { height: 1n, round: 0 };
  /** Other valid batches it built, by height: values for its conflicting votes. */
  private readonly alternatives = new Map<bigint, AssembledBatch[]>();
  /** The batches of the proposals it lied with, by id (hex). */
  private readonly lies = new Map<string, Batch>();
  private readonly replayable: Uint8Array[] = [];
  private stopped = false;
  readonly counts = new Map<string, number>();

  constructor(
    private readonly cluster: Cluster,
    private readonly node: SimNode,
    private readonly behaviour: ByzantineBehaviour,
    private readonly prng: Prng,
    private readonly trace: Trace | undefined,
    private readonly attack: ForkAttack | undefined,
  ) {
    this.signer = new KeySigner(node.key);
    this.peers = cluster.nodes.map((other) => other.name).filter((name) => name !== node.name);
  }

  /** Puts the layer in place and starts its ticks. */
  attach(): void {
    this.cluster.setOutboundFilter(this.node.name, (to, bytes, send) => {
      if (bytes !== this.lastBytes) {
        this.lastBytes = bytes;
        this.lastRoute = this.route(bytes);
      }
      const routed = this.lastRoute(to);
      if (routed !== undefined) send(to, routed);
    });
    this.cluster.observeDeliveries((to, from, bytes) => {
      if (to !== this.node.name) return;
      this.remember(bytes);
      this.answerBatchRequest(from, bytes);
      this.passOnChanged(bytes);
    });
    this.scheduleTick();
  }

  stop(): void {
    this.stopped = true;
  }

  private get replica(): Replica | undefined {
    return this.cluster.replicaOf(this.node);
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  private note(line: string): void {
    this.trace?.record(this.cluster.queue.now, this.node.name, `byzantine: ${line}`);
  }

  // ---- outbound ------------------------------------------------------------------------------

  /** Decides what becomes of one message of its replica's. */
  private route(bytes: Uint8Array): Route {
    if (bytes[0] === TAG.status) this.readStatus(bytes);
    if (this.prng.chance(this.behaviour.dropRate)) {
      this.count("dropped");
      return () => undefined;
    }
    let route: Route = () => bytes;
    if (this.prng.chance(this.behaviour.selectiveRate)) {
      const chosen = new Set(this.prng.shuffle([...this.peers]).slice(0, this.prng.int(0, this.peers.length - 1)));
      this.count("selective");
      route = (to) => (chosen.has(to) ? bytes : undefined);
    }
    if (bytes[0] === TAG.syncResponse && this.chance(this.behaviour.cutSyncAnswerRate)) {
      const cut = this.cutSyncAnswer(bytes);
      const honest = route;
      if (cut !== undefined) return (to) => (honest(to) === undefined ? undefined : cut);
    }
    if (bytes[0] === TAG.proposedBatch && this.chance(this.behaviour.changedBatchRate)) {
      const changed = this.changedBatch(bytes);
      const honest = route;
      if (changed !== undefined) return (to) => (honest(to) === undefined ? undefined : changed);
    }
    if (bytes[0] === TAG.proposal || bytes[0] === TAG.vote) {
      this.remember(bytes);
      const lie = this.lieAbout(bytes);
      if (lie !== undefined) {
        const honest = route;
        route = (to) => (lie.targets.has(to) ? lie.bytes : honest(to));
      }
    }
    return route;
  }

  /** A conflicting or corrupted version of its own proposal or vote, and the peers that get it instead. */
  private lieAbout(bytes: Uint8Array): Lie | undefined {
    const kind = peerMessageKind(bytes);
    if (kind?.$case === "proposal" && kind.value.proposal !== undefined && kind.value.batch !== undefined) {
      const proposal = Proposal.decode(kind.value.proposal.proposal);
      const batch = this.batchOf(kind.value.batch);
      if (proposal.proposer !== this.node.name || batch === undefined) return undefined;
      if (this.attack !== undefined) return this.attack.onProposal(this, proposal, batch);
      if (this.prng.chance(this.behaviour.invalidBatchRate)) {
        this.count("invalid batch");
        return { bytes: this.invalidProposal(proposal, batch), targets: new Set(this.peers) };
      }
      if (this.prng.chance(this.behaviour.equivocateProposalRate)) {
        const alternative = this.alternativeBatch(proposal.height, batch);
        if (alternative === undefined) return undefined;
        this.count("equivocating proposal");
        this.note(`proposes ${proposal.height}/${proposal.round} ${short(proposal.valueId)} and ${short(alternative.id)}`);
        return { bytes: this.proposalMessage({ ...proposal, valueId: alternative.id }, wireBatch(alternative)), targets: this.half() };
      }
      return undefined;
    }
    if (kind?.$case === "vote") {
      const vote = Vote.decode(kind.value.vote);
      if (vote.validator !== this.node.name) return undefined;
      if (this.attack !== undefined) return this.attack.onVote(vote);
      const isPrecommitForValue = vote.type === VoteType.VOTE_TYPE_PRECOMMIT && vote.valueId.length > 0;
      if (isPrecommitForValue && this.prng.chance(this.behaviour.badCheckpointRate)) {
        this.count("bad checkpoint signature");
        return { bytes: this.voteMessage({ ...vote, checkpointSignature: this.badCheckpointSignature(vote.height) }), targets: new Set(this.peers) };
      }
      if (this.prng.chance(this.behaviour.doubleVoteRate)) {
        this.count("double vote");
        const conflicting = this.conflictingVote(vote);
        this.note(`double ${vote.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : "precommit"} at ${vote.height}/${vote.round}: ${short(vote.valueId)} and ${short(conflicting.valueId)}`);
        return { bytes: this.voteMessage(conflicting), targets: this.half() };
      }
    }
    return undefined;
  }

  /** The batch its replica proposed by `reference`, from the replica's mempool (undefined if it no longer holds every entry). */
  private batchOf(reference: BatchReference): Batch | undefined {
    const replica = this.replica;
    if (replica === undefined) return undefined;
    const entries = resolveReference(reference, this.cluster.federation.parameters.batchEntriesMax, (id, signature) => {
      const pending = replica.mempool.get(statementIdKey(id));
      return pending?.signed.signature.equals(signature) ? pending : undefined;
    });
    return entries === undefined ? undefined : wireBatch({ headerBytes: reference.header, entries });
  }

  /** Whether to misbehave at `rate`; no draw when the behaviour is off, so that seeds without it keep their draws. */
  private chance(rate: number): boolean {
    return rate > 0 && this.prng.chance(rate);
  }

  /** A whole batch its replica sends, with the entries and reveals reversed: the header no longer commits to the body. */
  private changedBatch(bytes: Uint8Array): Uint8Array | undefined {
    const kind = peerMessageKind(bytes);
    if (kind?.$case !== "proposedBatch" || kind.value.entries.length < 2) return undefined;
    this.count("changed batch");
    const batch = kind.value;
    return encodePeerMessage({ kind: { $case: "proposedBatch", value: { header: batch.header, entries: [...batch.entries].reverse(), reveals: [...batch.reveals].reverse() } } });
  }

  /** A sync answer with a malformed entry after its batches. */
  private cutSyncAnswer(bytes: Uint8Array): Uint8Array | undefined {
    const kind = peerMessageKind(bytes);
    if (kind?.$case !== "syncResponse") return undefined;
    this.count("cut sync answer");
    return encodePeerMessage({ kind: { $case: "syncResponse", value: { batches: [...kind.value.batches, { batch: undefined, certificate: undefined }] } } });
  }

  /** Another validator's proposal, passed on to one peer with its reference's entries reversed. */
  private passOnChanged(bytes: Uint8Array): void {
    if (bytes[0] !== TAG.proposal || !this.chance(this.behaviour.changedBatchRate)) return;
    const kind = peerMessageKind(bytes);
    if (kind?.$case !== "proposal" || kind.value.proposal === undefined || kind.value.batch === undefined) return;
    const { header, entries } = kind.value.batch;
    const count = entries.length / ENTRY_REFERENCE_BYTES;
    if (!Number.isInteger(count) || count < 2) return;
    const reversed = Buffer.alloc(entries.length);
    for (let i = 0; i < count; i++) entries.copy(reversed, (count - 1 - i) * ENTRY_REFERENCE_BYTES, i * ENTRY_REFERENCE_BYTES, (i + 1) * ENTRY_REFERENCE_BYTES);
    this.count("changed reference passed on");
    this.sendTo(this.prng.pick(this.peers), encodePeerMessage({ kind: { $case: "proposal", value: { proposal: kind.value.proposal, batch: { header, entries: reversed } } } }));
  }

  /** A peer asks for the batch of one of its lies: it gets it, so that the lie is weighed rather than timed out. */
  private answerBatchRequest(from: string, bytes: Uint8Array): void {
    if (bytes[0] !== TAG.proposedBatchRequest) return;
    const kind = peerMessageKind(bytes);
    const lie = kind?.$case === "proposedBatchRequest" ? this.lies.get(Buffer.from(kind.value.valueId).toString("hex")) : undefined;
    if (lie !== undefined) this.sendTo(from, encodePeerMessage({ kind: { $case: "proposedBatch", value: lie } }));
  }

  private readStatus(bytes: Uint8Array): void {
    try {
      const message = PeerMessage.decode(bytes);
      if (message.kind?.$case === "status") this.position = { height: message.kind.value.height, round: message.kind.value.round };
    } catch {
      // Its own replica's status always decodes; nothing to learn otherwise.
    }
  }

  /** A random half of the peers (at least one). */
  half(): ReadonlySet<string> {
    const shuffled = this.prng.shuffle([...this.peers]);
    return new Set(shuffled.slice(0, Math.max(1, Math.floor(shuffled.length / 2))));
  }

  /** Another valid batch after the replica's head, from the entries of `batch`: a later proposer time, perhaps one entry fewer. */
  alternativeBatch(height: bigint, batch: Batch): AssembledBatch | undefined {
    const replica = this.replica;
    if (replica === undefined || replica.ledger.head.height + 1n !== height) return undefined;
    let entries: BatchEntry[];
    let header: BatchHeader;
    try {
      header = BatchHeader.decode(batch.header);
      entries = batch.entries.map((entry, i) => {
        const signed = parseSignedStatement(entry.statement, entry.signature);
        return { signed, reveal: signed.statement.body!.$case === "addSignal" ? batch.reveals[i] : undefined };
      });
    } catch {
      return undefined;
    }
    if (entries.length > 1 && this.prng.chance(0.5)) entries = entries.slice(0, -1);
    const built = buildBatch(this.cluster.federation, replica.ledger.state, replica.ledger.head, entries, {
      proposer: this.node.name,
      proposerTimeMs: header.proposerTimeMs + BigInt(this.prng.int(1, 1000)),
    });
    if (built.batch === undefined) return undefined;
    const known = this.alternatives.get(height) ?? [];
    known.push(built.batch);
    this.alternatives.set(height, known);
    return built.batch;
  }

  /** The batch of `batch` as an AssembledBatch on the replica's head (to cosign its checkpoint), if valid there. */
  assemble(batch: Batch): AssembledBatch | undefined {
    const replica = this.replica;
    if (replica === undefined) return undefined;
    try {
      return checkBatch(this.cluster.federation, replica.ledger.state, replica.ledger.head, batch, () => true);
    } catch {
      return undefined;
    }
  }

  /** A proposal whose batch header does not match its entries (a wrong root), signed and self-consistent otherwise. */
  private invalidProposal(proposal: Proposal, batch: Batch): Uint8Array {
    const header = BatchHeader.decode(batch.header);
    const root = Buffer.from(header.root);
    root[this.prng.int(0, root.length - 1)] ^= 1 << this.prng.int(0, 7);
    const headerBytes = Buffer.from(BatchHeader.encode({ ...header, root }).finish());
    const valueId = createHash("sha256").update(headerBytes).digest();
    return this.proposalMessage({ ...proposal, valueId }, { ...batch, header: headerBytes });
  }

  /** A proposal of `batch`, which it answers requests for (see answerBatchRequest). */
  proposalMessage(proposal: Proposal, batch: Batch): Uint8Array {
    this.lies.set(createHash("sha256").update(batch.header).digest("hex"), batch);
    const entries = batch.entries.map((logEntry) => ({ signed: parseSignedStatement(logEntry.statement, logEntry.signature), reveal: undefined }));
    const reference = referenceOf(batch.header, entries);
    return encodePeerMessage({ kind: { $case: "proposal", value: { proposal: signProposal(this.signer, proposal), batch: reference } } });
  }

  voteMessage(vote: Vote): Uint8Array {
    return encodePeerMessage({ kind: { $case: "vote", value: signVote(this.signer, vote) } });
  }

  /** A precommit for `batch` with a valid checkpoint signature: what a certificate needs. */
  precommitFor(height: bigint, round: number, batch: AssembledBatch): Vote {
    return {
      federationId: this.cluster.federation.id,
      type: VoteType.VOTE_TYPE_PRECOMMIT,
      height,
      round,
      valueId: batch.id,
      validator: this.node.name,
      checkpointSignature: noteSignatureBytes(this.signer.signNote(batch.checkpointBody)),
    };
  }

  prevoteFor(height: bigint, round: number, batch: AssembledBatch): Vote {
    return { federationId: this.cluster.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height, round, valueId: batch.id, validator: this.node.name, checkpointSignature: Buffer.alloc(0) };
  }

  /** The same vote for something else: nil, another batch it built, or a made-up id. */
  private conflictingVote(vote: Vote): Vote {
    const known = this.alternatives.get(vote.height)?.filter((batch) => !batch.id.equals(Buffer.from(vote.valueId))) ?? [];
    const choice = this.prng.int(0, 2);
    if (choice === 0 && vote.valueId.length > 0) return { ...vote, valueId: Buffer.alloc(0), checkpointSignature: Buffer.alloc(0) };
    if (choice === 1 && known.length > 0) {
      const batch = this.prng.pick(known);
      return vote.type === VoteType.VOTE_TYPE_PRECOMMIT ? this.precommitFor(vote.height, vote.round, batch) : { ...vote, valueId: batch.id };
    }
    return { ...vote, valueId: this.prng.bytes(32), checkpointSignature: Buffer.alloc(0) };
  }

  /** A checkpoint signature that fails: missing, random bytes, or a valid signature over another checkpoint. */
  private badCheckpointSignature(height: bigint): Buffer {
    const choice = this.prng.int(0, 2);
    if (choice === 0) return Buffer.alloc(0);
    const other = this.alternatives.get(height)?.[0];
    if (choice === 1 && other !== undefined) return noteSignatureBytes(this.signer.signNote(other.checkpointBody));
    // Its own key id and 64 random bytes: the signature is looked up, checked, and fails.
    return Buffer.concat([this.signer.verifierKey.keyId, this.prng.bytes(64)]);
  }

  // ---- ticks ---------------------------------------------------------------------------------

  private scheduleTick(): void {
    const queue = this.cluster.queue;
    queue.schedule(queue.now + this.prng.exponential(this.behaviour.tickMeanMs), "byzantine tick", () => this.tick(), this.node.name);
  }

  private tick(): void {
    if (this.stopped) return;
    this.scheduleTick();
    if (this.replica === undefined || this.behaviour.dropRate === 1) return;
    const b = this.behaviour;
    if (this.prng.chance(b.futureVoteRate)) this.futureVote();
    if (this.prng.chance(b.replayRate)) this.replay();
    if (this.prng.chance(b.garbageRate)) this.garbage();
    if (this.prng.chance(b.badSignatureRate)) this.badSignature();
    if (this.prng.chance(b.wrongKeyRate)) this.wrongKey();
    if (this.prng.chance(b.lyingStatusRate)) this.lyingStatus();
  }

  /** Sends straight to the network, around its replica. */
  sendTo(to: string, bytes: Uint8Array): void {
    this.cluster.network.send(this.node.name, to, bytes);
  }

  private broadcast(bytes: Uint8Array): void {
    for (const peer of this.peers) this.sendTo(peer, bytes);
  }

  private remember(bytes: Uint8Array): void {
    if (this.replayable.length >= REPLAY_BUFFER_MAX) this.replayable.splice(this.prng.int(0, REPLAY_BUFFER_MAX - 1), 1);
    this.replayable.push(bytes);
  }

  /** A vote for a later round of this height (the f+1 round skip), or for a later height. */
  private futureVote(): void {
    const { height, round } = this.position;
    const sameHeight = this.prng.chance(0.8);
    const vote: Vote = {
      federationId: this.cluster.federation.id,
      type: this.prng.chance(0.5) ? VoteType.VOTE_TYPE_PREVOTE : VoteType.VOTE_TYPE_PRECOMMIT,
      height: sameHeight ? height : height + BigInt(this.prng.int(1, 3)),
      round: sameHeight ? round + this.prng.int(1, 4) : this.prng.int(0, 2),
      valueId: this.prng.chance(0.5) ? Buffer.alloc(0) : this.prng.bytes(32),
      validator: this.node.name,
      checkpointSignature: Buffer.alloc(0),
    };
    this.count("future vote");
    this.broadcast(this.voteMessage(vote));
  }

  private replay(): void {
    if (this.replayable.length === 0) return;
    this.count("replay");
    this.sendTo(this.prng.pick(this.peers), this.prng.pick(this.replayable));
  }

  /** Random bytes, or a message it saw with bytes flipped or cut short. */
  private garbage(): void {
    this.count("garbage");
    const to = this.prng.pick(this.peers);
    if (this.replayable.length === 0 || this.prng.chance(0.3)) {
      this.sendTo(to, this.prng.bytes(this.prng.int(0, 200)));
      return;
    }
    const bytes = Buffer.from(this.prng.pick(this.replayable));
    if (bytes.length === 0) return;
    if (this.prng.chance(0.5)) {
      for (let flips = this.prng.int(1, 4); flips > 0; flips--) bytes[this.prng.int(0, bytes.length - 1)] ^= 1 << this.prng.int(0, 7);
      this.sendTo(to, bytes);
    } else {
      this.sendTo(to, bytes.subarray(0, this.prng.int(0, bytes.length - 1)));
    }
  }

  /** A vote for the current slot whose signature does not verify. */
  private badSignature(): void {
    const { height, round } = this.position;
    const signed = signVote(this.signer, this.nilPrevote(height, round, this.node.name));
    const signature = Buffer.from(signed.signature);
    signature[this.prng.int(0, signature.length - 1)] ^= 1 << this.prng.int(0, 7);
    this.count("bad signature");
    this.broadcast(encodePeerMessage({ kind: { $case: "vote", value: { vote: signed.vote, signature } } }));
  }

  /** A vote in another validator's name, signed with this node's key. */
  private wrongKey(): void {
    const { height, round } = this.position;
    const victim = this.prng.pick(this.peers);
    const vote = this.nilPrevote(height, round + this.prng.int(0, 1), victim);
    this.count("wrong key");
    this.broadcast(encodePeerMessage({ kind: { $case: "vote", value: signVote(this.signer, vote) } }));
  }

  /**
   * A status claiming far more committed heights than it has (peers behind may ask it for sync, in
   * vain), and to hold every vote and some proposal of its round (peers then re-send it nothing).
   */
  private lyingStatus(): void {
    const replica = this.replica!;
    const committedHeight = replica.ledger.head.height + BigInt(this.prng.int(1, 50));
    const round = this.prng.int(0, 5);
    const committedBatchId = this.prng.bytes(32);
    const everyone = Buffer.alloc(Math.ceil(this.peers.length / 8) + 1, 0xff);
    this.count("lying status");
    this.broadcast(
      encodePeerMessage({
        kind: {
          $case: "status",
          value: { height: committedHeight + 1n, round, committedHeight, committedBatchId, listening: 0n, echo: 0n, yours: [], proposalValueId: committedBatchId, prevoters: everyone, precommitters: everyone },
        },
      }),
    );
  }

  private nilPrevote(height: bigint, round: number, validator: string): Vote {
    return { federationId: this.cluster.federation.id, type: VoteType.VOTE_TYPE_PREVOTE, height, round, valueId: Buffer.alloc(0), validator, checkpointSignature: Buffer.alloc(0) };
  }

  get name(): string {
    return this.node.name;
  }
}

/**
 * More than f Byzantine validators trying to fork the log: at the first proposal of one of them,
 * group A of the correct nodes is shown batch 1 and group B batch 2, and every Byzantine validator
 * prevotes and precommits for batch 1 to A and batch 2 to B (precommits with valid checkpoint
 * signatures). Their replicas' own votes at that slot are withheld, so that the first vote the
 * correct nodes count from each Byzantine validator is the one that helps the fork.
 */
export class ForkAttack {
  private readonly members: ByzantineNode[] = [];
  /** "height/round" of the slots under attack. */
  private readonly attacked = new Set<string>();
  private readonly everyone: ReadonlySet<string>;
  private stopped = false;
  forksTried = 0;

  constructor(
    private readonly groups: readonly [ReadonlySet<string>, ReadonlySet<string>],
    nodes: readonly string[],
    private readonly trace: Trace | undefined,
    private readonly now: () => number,
  ) {
    this.everyone = new Set(nodes);
  }

  join(member: ByzantineNode): void {
    this.members.push(member);
  }

  /** No new fork attempts from now on (the lies already told still travel). */
  stop(): void {
    this.stopped = true;
  }

  onProposal(proposer: ByzantineNode, proposal: Proposal, batch: Batch): Lie | undefined {
    const slot = `${proposal.height}/${proposal.round}`;
    if (this.stopped || this.attacked.has(slot)) return undefined;
    const first = proposer.assemble(batch);
    const second = proposer.alternativeBatch(proposal.height, batch);
    if (first === undefined || second === undefined || first.id.equals(second.id)) return undefined;
    this.attacked.add(slot);
    this.forksTried++;
    this.trace?.record(this.now(), proposer.name, `byzantine: fork attempt at ${slot}: ${short(first.id)} to ${[...this.groups[0]].join(",")}, ${short(second.id)} to ${[...this.groups[1]].join(",")}`);
    for (const member of this.members) {
      for (const [group, value] of [
        [this.groups[0], first],
        [this.groups[1], second],
      ] as const) {
        const prevote = member.voteMessage(member.prevoteFor(proposal.height, proposal.round, value));
        const precommit = member.voteMessage(member.precommitFor(proposal.height, proposal.round, value));
        for (const target of group) {
          member.sendTo(target, prevote);
          member.sendTo(target, precommit);
        }
      }
    }
    // The replica's own proposal (batch 1) goes on to group A (and the other Byzantine nodes); group B gets batch 2.
    return { bytes: proposer.proposalMessage({ ...proposal, valueId: second.id }, wireBatch(second)), targets: this.groups[1] };
  }

  /** The Byzantine replicas' own votes at an attacked slot are withheld from everyone. */
  onVote(vote: Vote): Lie | undefined {
    if (!this.attacked.has(`${vote.height}/${vote.round}`)) return undefined;
    return { bytes: undefined, targets: this.everyone };
  }
}

function short(id: Uint8Array): string {
  return id.length === 0 ? "nil" : Buffer.from(id).toString("hex").slice(0, 8);
}
