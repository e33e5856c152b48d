import { HashfedError, invalid, locating } from "../errors";
import { NOTE_BYTES_MAX } from "../crypto";
import type { Federation, Member } from "../federation";
import { EntryView } from "../gen/hashfed/v1/member";
import type { LogEntry, Reveal } from "../gen/hashfed/v1/statement";
import { HASH_BYTES, hashLeaf, PROOF_HASHES_MAX, verifyInclusion } from "../log";
import { checkStatementReveal, checkStatementRules, parseSignedStatement, type SignedStatement, verifyStatementSignature } from "../statements";
import { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "./cosignedCheckpoint";

/**
 * An offline proof that one entry is on the log: a C2SP tlog-proof (c2sp.org/tlog-proof) whose
 * opaque extra data is the entry itself, and optionally its reveal, as an encoded EntryView (log
 * index, statement id, the signed entry, the reveal; nothing else):
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64 EntryView>
 *   index <decimal>
 *   <base64 hash>            (the inclusion proof, leaf's sibling first)
 *   ...
 *   <blank line>
 *   <the cosigned checkpoint, verbatim>
 *
 * What a platform hands a regulator to show why it removed a piece of content: with the federation
 * file alone, anyone can check that a quorum of validators committed to a log holding this signed
 * statement by this member, and, with the reveal, that the statement is about this very hash. The
 * extra data is not trusted: every part of it is checked against the proof and the signatures.
 */
export const PROOF_BUNDLE_HEADER = "c2sp.org/tlog-proof@v1";

/** A note and a proof of at most 64 hashes with an entry and its reveal fit well within this. */
const BUNDLE_CHARACTERS_MAX = NOTE_BYTES_MAX + 64 * 1024;
const CODE = "PROOF_BUNDLE_MALFORMED";

export interface BundleEntry {
  readonly entry: LogEntry;
  /** Present for an added signal when the exporter chose to disclose the hash. */
  readonly reveal?: Reveal;
}

export interface ProofBundle {
  readonly index: bigint;
  readonly hashes: readonly Buffer[];
  /** The cosigned checkpoint note, exactly as served. */
  readonly checkpoint: string;
  /** Undefined only for a tlog-proof that carries no extra data; verification needs it. */
  readonly entry?: BundleEntry;
}

export interface VerifiedBundle {
  readonly checkpoint: VerifiedCheckpoint;
  readonly index: bigint;
  readonly statement: SignedStatement;
  readonly submitter: Member;
  /** The reveal, which opens the statement's commitment. */
  readonly reveal?: Reveal;
}

export function formatProofBundle(bundle: ProofBundle): string {
  const lines = [PROOF_BUNDLE_HEADER];
  if (bundle.entry !== undefined) lines.push(`extra ${encodeEntry(bundle.index, bundle.entry)}`);
  lines.push(`index ${bundle.index}`, ...bundle.hashes.map((hash) => hash.toString("base64")));
  return `${lines.join("\n")}\n\n${bundle.checkpoint}`;
}

/** Parses the text of a bundle strictly; nothing in it is verified here (see verifyProofBundle). */
export function parseProofBundle(text: string): ProofBundle {
  if (text.length > BUNDLE_CHARACTERS_MAX) throw invalid(CODE, `a proof bundle is at most ${BUNDLE_CHARACTERS_MAX} characters, this one has ${text.length}`);
  const split = text.indexOf("\n\n");
  if (split < 0) throw invalid(CODE, "a proof bundle needs a blank line between the proof and the checkpoint");
  const lines = text.slice(0, split).split("\n");
  if (lines[0] !== PROOF_BUNDLE_HEADER) throw invalid(CODE, `a proof bundle starts with the line ${PROOF_BUNDLE_HEADER}`);
  let next = 1;
  const extra = lines[next]?.startsWith("extra ") ? lines[next++]!.slice("extra ".length) : undefined;
  const indexLine = lines[next++] ?? "";
  const indexMatch = /^index (0|[1-9][0-9]{0,19})$/.exec(indexLine);
  if (indexMatch === null || BigInt(indexMatch[1]!) >= 1n << 64n) {
    throw invalid(CODE, `line ${next}: expected "index <decimal below 2^64, no leading zeros>", got ${JSON.stringify(indexLine.slice(0, 40))}`);
  }
  const index = BigInt(indexMatch[1]!);
  const hashLines = lines.slice(next);
  if (hashLines.length > PROOF_HASHES_MAX) throw invalid(CODE, `an inclusion proof has at most ${PROOF_HASHES_MAX} hashes, this one has ${hashLines.length}`);
  const hashes = hashLines.map((line, position) => {
    const hash = Buffer.from(line, "base64");
    if (hash.length !== HASH_BYTES || hash.toString("base64") !== line) throw invalid(CODE, `line ${next + position + 1}: not a ${HASH_BYTES}-byte hash in canonical base64`);
    return hash;
  });
  return { index, hashes, checkpoint: text.slice(split + 2), ...(extra === undefined ? {} : { entry: decodeEntry(extra, index) }) };
}

/**
 * Checks a bundle with the federation file alone: the checkpoint cosigned by a quorum, the entry a
 * statement of a member under the federation's rules with a valid signature, the inclusion proof
 * from the entry to the checkpoint's root, and the reveal, if any, opening the commitment.
 */
export function verifyProofBundle(federation: Federation, bundle: ProofBundle): VerifiedBundle {
  const checkpoint = locating("the bundle's checkpoint", () => verifyCosignedCheckpoint(federation, bundle.checkpoint));
  if (bundle.entry === undefined) throw invalid(CODE, "the bundle carries no entry (no extra line): there is nothing to show");
  const { entry, reveal } = bundle.entry;
  const statement = locating("the bundle's entry", () => parseSignedStatement(entry.statement, entry.signature));
  const submitter = locating("the bundle's entry", () => checkStatementRules(federation, statement));
  locating("the bundle's entry", () => verifyStatementSignature(submitter, statement));
  const { size, root } = checkpoint.checkpoint;
  locating(`the inclusion proof of entry ${bundle.index} in the tree of size ${size}`, () => verifyInclusion(bundle.index, size, hashLeaf(statement.entryBytes), [...bundle.hashes], root));
  if (reveal !== undefined) locating("the bundle's reveal", () => checkStatementReveal(statement, reveal));
  return { checkpoint, index: bundle.index, statement, submitter, ...(reveal === undefined ? {} : { reveal }) };
}

function encodeEntry(index: bigint, { entry, reveal }: BundleEntry): string {
  const view: EntryView = {
    logIndex: index,
    statementId: parseSignedStatement(entry.statement, entry.signature).id,
    entry,
    reveal,
    statement: undefined,
    retractedBy: Buffer.alloc(0),
  };
  return Buffer.from(EntryView.encode(view).finish()).toString("base64");
}

function decodeEntry(extra: string, index: bigint): BundleEntry {
  const bytes = Buffer.from(extra, "base64");
  if (bytes.toString("base64") !== extra) throw invalid(CODE, "the extra data is not canonical base64");
  let view: EntryView;
  try {
    view = EntryView.decode(bytes);
  } catch (error) {
    throw invalid(CODE, `the extra data is not an encoded EntryView: ${(error as Error).message}`);
  }
  if (view.entry === undefined) throw invalid(CODE, "the extra data holds no entry");
  if (view.statement !== undefined || view.retractedBy.length > 0) {
    throw invalid(CODE, "the extra data holds only the signed entry and its reveal: no decoded statement, no retraction (a bundle cannot prove either)");
  }
  if (view.logIndex !== index) throw invalid(CODE, `the extra data is for entry ${view.logIndex}, the proof for entry ${index}`);
  const id = locating("the bundle's entry", () => parseSignedStatement(view.entry!.statement, view.entry!.signature).id);
  if (!id.equals(view.statementId)) {
    throw new HashfedError("invalid", CODE, `the extra data names statement ${view.statementId.toString("hex")}, but the entry's statement is ${id.toString("hex")}`);
  }
  return { entry: view.entry, ...(view.reveal === undefined ? {} : { reveal: view.reveal }) };
}
