import { HashfedError, invalid, locating } from "../errors";
import { NOTE_BYTES_MAX } from "../crypto";
import type { Federation } from "../federation";
import { EMPTY_ROOT, prefixRootFromInclusionProof, PROOF_HASHES_MAX, ProofError } from "../log";
import { verifyCosignedCheckpoint } from "./cosignedCheckpoint";
import { DocumentFields } from "./documentFields";
import { describeCheckpoint, type ObservedCheckpoint } from "./observedCheckpoint";

/**
 * Evidence of a fork: two checkpoints of one federation, each cosigned by a quorum of validators,
 * that cannot both be true, with what it takes to see that offline. Two kinds:
 *   - same size, different roots: the two notes alone prove it;
 *   - different sizes: an inclusion proof, in the larger tree, of the last leaf of the smaller one,
 *     which gives the larger tree's root at the smaller size (prefixRootFromInclusionProof); it is
 *     not the smaller checkpoint's root, so the smaller tree is not a prefix of the larger.
 * Any two quorums share at least 2q - n validators; those that signed both checkpoints are named.
 * A validator must never sign two checkpoints that are inconsistent with each other
 * (c2sp.org/tlog-checkpoint), so each named validator signed a false history, whichever it is.
 */
export const FORK_EVIDENCE_FORMAT = "hashfed-fork-evidence/v1";

/** Two maximal notes and a proof of at most 64 hashes fit well within this. */
export const FORK_EVIDENCE_CHARACTERS_MAX = 2 * NOTE_BYTES_MAX + 64 * 1024;

const CODE = "EVIDENCE_MALFORMED";

/** A checkpoint note as evidence carries it: exactly as served, with where and when it was seen. */
export interface EvidenceNote {
  readonly note: string;
  readonly source: string;
  readonly observedAt: string;
}

/** An inclusion proof, in the larger tree, of the last leaf of the smaller tree. */
export interface PrefixProof {
  readonly leafHash: Buffer;
  readonly hashes: readonly Buffer[];
}

export interface ForkEvidence {
  readonly federationId: Buffer;
  /** The checkpoint of the smaller tree, or of equal size. */
  readonly first: EvidenceNote;
  readonly second: EvidenceNote;
  /** Present exactly when the sizes differ. */
  readonly prefixProof?: PrefixProof;
}

export type ForkKind = "same-size" | "not-a-prefix";

/** What verified evidence proves. */
export interface ProvenFork {
  readonly kind: ForkKind;
  readonly first: ObservedCheckpoint;
  readonly second: ObservedCheckpoint;
  /** For "not-a-prefix": the root of the second tree at the first tree's size, which differs from the first's root. */
  readonly secondRootAtFirstSize?: Buffer;
  /** The validators whose valid signatures are on both checkpoints, in name order. */
  readonly doubleSigners: readonly string[];
}

/** Evidence from two observed checkpoints, given in either order; the smaller becomes `first`. */
export function forkEvidence(federation: Federation, a: ObservedCheckpoint, b: ObservedCheckpoint, prefixProof?: PrefixProof): ForkEvidence {
  const [first, second] = a.verified.checkpoint.size <= b.verified.checkpoint.size ? [a, b] : [b, a];
  const note = (observed: ObservedCheckpoint): EvidenceNote => ({ note: observed.verified.note, source: observed.source, observedAt: observed.observedAt });
  return { federationId: federation.id, first: note(first), second: note(second), ...(prefixProof === undefined ? {} : { prefixProof }) };
}

/**
 * Checks evidence with the federation file alone and returns what it proves; throws a HashfedError
 * saying why when it proves no fork.
 */
export function verifyForkEvidence(federation: Federation, evidence: ForkEvidence): ProvenFork {
  if (!evidence.federationId.equals(federation.id)) {
    throw invalid("EVIDENCE_OTHER_FEDERATION", `the evidence is about federation ${evidence.federationId.toString("hex")}, the federation file is ${federation.id.toString("hex")}`);
  }
  const first = observe(federation, evidence.first, "the first checkpoint");
  const second = observe(federation, evidence.second, "the second checkpoint");
  const [small, large] = [first.verified.checkpoint, second.verified.checkpoint];
  const doubleSigners = first.verified.signers.filter((name) => second.verified.signers.includes(name));
  if (small.size > large.size) throw invalid(CODE, `the first checkpoint (size ${small.size}) must not be larger than the second (size ${large.size})`);
  if (small.size === large.size) {
    if (evidence.prefixProof !== undefined) throw invalid(CODE, "checkpoints of equal size need no prefix proof; this evidence has one");
    if (small.root.equals(large.root)) throw notConflicting(`both checkpoints are of ${describeCheckpoint(first.verified)}`);
    return { kind: "same-size", first, second, doubleSigners };
  }
  if (small.size === 0n) {
    if (small.root.equals(EMPTY_ROOT)) throw notConflicting("every tree extends the empty tree");
    throw invalid(CODE, "the first checkpoint is of size 0 but its root is not the empty-tree hash");
  }
  if (evidence.prefixProof === undefined) throw invalid(CODE, `checkpoints of different sizes need a prefix proof; this evidence has none`);
  const { leafHash, hashes } = evidence.prefixProof;
  let rootAtFirstSize: Buffer;
  try {
    rootAtFirstSize = prefixRootFromInclusionProof(small.size, large.size, leafHash, [...hashes], large.root);
  } catch (error) {
    if (!(error instanceof ProofError)) throw error;
    throw invalid("EVIDENCE_PROOF_INVALID", `the prefix proof (entry ${small.size - 1n} in the tree of size ${large.size}) does not verify: ${error.message}`);
  }
  if (rootAtFirstSize.equals(small.root)) {
    throw notConflicting(`the tree of size ${large.size} has the first checkpoint's root at size ${small.size}: it extends it`);
  }
  return { kind: "not-a-prefix", first, second, secondRootAtFirstSize: rootAtFirstSize, doubleSigners };
}

/** One sentence for people: what cannot both be true, and who signed both. */
export function describeFork(fork: ProvenFork): string {
  const [first, second] = [fork.first, fork.second];
  const sides = `the checkpoint of ${describeCheckpoint(first.verified)} from ${first.source} (seen ${first.observedAt}) and the checkpoint of ${describeCheckpoint(second.verified)} from ${second.source} (seen ${second.observedAt}) cannot both be true`;
  const why = fork.kind === "same-size"
    ? "they are of the same size with different roots"
    : `the tree of size ${second.verified.checkpoint.size} has root ${fork.secondRootAtFirstSize!.toString("base64")} at size ${first.verified.checkpoint.size}`;
  const signers = fork.doubleSigners.length === 0 ? "no validator signed both" : `validators that signed both: ${fork.doubleSigners.join(", ")}`;
  return `${sides}: ${why}; ${signers}`;
}

/** The evidence file: JSON, with what it proves spelt out (checked again when it is read). */
export function formatForkEvidence(federation: Federation, evidence: ForkEvidence): string {
  const proven = verifyForkEvidence(federation, evidence);
  const note = (side: EvidenceNote): object => ({ source: side.source, observedAt: side.observedAt, checkpoint: side.note });
  const document = {
    format: FORK_EVIDENCE_FORMAT,
    federationId: evidence.federationId.toString("hex"),
    origin: federation.origin,
    conflict: proven.kind,
    doubleSigners: proven.doubleSigners,
    summary: describeFork(proven),
    first: note(evidence.first),
    second: note(evidence.second),
    ...(evidence.prefixProof === undefined ? {} : {
      prefixProof: {
        leafIndex: (proven.first.verified.checkpoint.size - 1n).toString(),
        leafHash: evidence.prefixProof.leafHash.toString("base64"),
        hashes: evidence.prefixProof.hashes.map((hash) => hash.toString("base64")),
      },
    }),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * Reads an evidence file and verifies it: the proof itself, and that the conflict and the double
 * signers it names are what the proof shows. The summary and origin are for people and not read.
 */
export function checkForkEvidenceFile(federation: Federation, text: string): ProvenFork {
  const fields = new DocumentFields("the fork evidence", CODE);
  const top = fields.object(fields.parse(text, FORK_EVIDENCE_CHARACTERS_MAX), "", ["format", "federationId", "conflict", "doubleSigners", "first", "second"], ["origin", "summary", "prefixProof"]);
  if (top.format !== FORK_EVIDENCE_FORMAT) throw fields.error("format", `must be ${JSON.stringify(FORK_EVIDENCE_FORMAT)}`);
  const side = (path: string): EvidenceNote => {
    const note = fields.object(top[path], path, ["source", "observedAt", "checkpoint"]);
    return { note: fields.string(note.checkpoint, `${path}.checkpoint`), source: fields.string(note.source, `${path}.source`), observedAt: fields.string(note.observedAt, `${path}.observedAt`) };
  };
  const evidence: ForkEvidence = {
    federationId: fields.hex(top.federationId, "federationId", federation.id.length),
    first: side("first"),
    second: side("second"),
    ...(top.prefixProof === undefined ? {} : { prefixProof: readPrefixProof(fields, top.prefixProof) }),
  };
  const proven = verifyForkEvidence(federation, evidence);
  if (top.conflict !== proven.kind) throw fields.error("conflict", `says ${JSON.stringify(top.conflict)}, the checkpoints show ${JSON.stringify(proven.kind)}`);
  const claimed = fields.array(top.doubleSigners, "doubleSigners", federation.validators.length).map((name, index) => fields.string(name, `doubleSigners[${index}]`));
  if (claimed.join(",") !== proven.doubleSigners.join(",")) {
    throw fields.error("doubleSigners", `names ${claimed.join(", ") || "nobody"}, but the validators whose signatures are on both checkpoints are ${proven.doubleSigners.join(", ") || "none"}`);
  }
  const leafIndex = (top.prefixProof as { leafIndex?: unknown } | undefined)?.leafIndex;
  if (leafIndex !== undefined && fields.uint64(leafIndex, "prefixProof.leafIndex") !== proven.first.verified.checkpoint.size - 1n) {
    throw fields.error("prefixProof.leafIndex", `must be ${proven.first.verified.checkpoint.size - 1n}, the last entry of the first checkpoint's tree`);
  }
  return proven;
}

function readPrefixProof(fields: DocumentFields, value: unknown): PrefixProof {
  const proof = fields.object(value, "prefixProof", ["leafIndex", "leafHash", "hashes"]);
  const hashes = fields.array(proof.hashes, "prefixProof.hashes", PROOF_HASHES_MAX).map((hash, index) => fields.hash(hash, `prefixProof.hashes[${index}]`));
  return { leafHash: fields.hash(proof.leafHash, "prefixProof.leafHash"), hashes };
}

function observe(federation: Federation, side: EvidenceNote, name: string): ObservedCheckpoint {
  const verified = locating(name, () => verifyCosignedCheckpoint(federation, side.note));
  return { verified, source: side.source, observedAt: side.observedAt };
}

function notConflicting(why: string): HashfedError {
  return invalid("EVIDENCE_NOT_CONFLICTING", `the two checkpoints do not conflict: ${why}`);
}
