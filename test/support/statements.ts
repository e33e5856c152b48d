import type { AssembledBatch, BatchEntry } from "../../src/batch";
import { signPrecommit } from "../../src/consensus";
import { KeySigner, type PrivateKey, privateKeyFromSeed } from "../../src/crypto";
import { type Federation, type FederationParameters, formatFederationFile, type MemberRole, parseFederation } from "../../src/federation";
import type { CommitCertificate, SignedVote } from "../../src/gen/hashfed/v1/batch";
import { RetractReason, type Reveal } from "../../src/gen/hashfed/v1/statement";
import { type SignalTypeName, signalType } from "../../src/signals";
import {
  encodeAddSignal,
  encodeRetract,
  type SignedStatement,
  signStatement,
  type StatementContext,
  type StatementId,
} from "../../src/statements";
import { pseudoRandomBytes } from "../crypto/testBytes";
import { seedFor } from "../federation/fixtures";

/**
 * Fixtures for the pure core and the store: deterministic federations with their private keys, and a
 * maker of signed statements whose nonces, salts and values are derived from a label and a counter,
 * so that every run builds the same bytes and a failure reproduces exactly.
 */

/** Validator names in name order, so validators[i] is also the i-th validator of federation.validators. */
const VALIDATOR_NAMES = ["alpha.example", "bravo.example", "charlie.example", "delta.example", "echo.example", "foxtrot.example", "golf.example"];
export const OBSERVER_NAME = "observer.example";
/** A name no federation here lists. */
export const OUTSIDER_NAME = "outsider.example";
/** The first label of the default taxonomy, valid in every federation built here. */
export const LABEL = "graphic-violence";

export interface TestMember {
  readonly name: string;
  readonly role: MemberRole;
  readonly key: PrivateKey;
  readonly signer: KeySigner;
}

export interface FederationFixture {
  readonly federation: Federation;
  /** The validators, in name order (the order of federation.validators). */
  readonly validators: readonly TestMember[];
  /** A member that is not a validator: its statements are allowed, its votes are not. */
  readonly observer: TestMember;
  /** A key named like validators[0] but not theirs: a forger. */
  readonly forger: PrivateKey;
  /** A key whose name no member has. */
  readonly outsider: PrivateKey;
}

export interface FederationOptions {
  readonly validatorCount?: number;
  readonly parameters?: Partial<FederationParameters>;
  /** Changes the origin and every key, so that two fixtures with different labels are two federations. */
  readonly label?: string;
}

function member(name: string, role: MemberRole, label: string): TestMember {
  const key = privateKeyFromSeed(name, seedFor(`${label}/${name}`));
  return { name, role, key, signer: new KeySigner(key) };
}

/** A federation of `validatorCount` validators (default 1) and one observer, with every private key. */
export function federationFixture(options: FederationOptions = {}): FederationFixture {
  const { validatorCount = 1, parameters = {}, label = "core" } = options;
  const validators = VALIDATOR_NAMES.slice(0, validatorCount).map((name) => member(name, "validator", label));
  const observer = member(OBSERVER_NAME, "observer", label);
  const text = formatFederationFile({
    origin: `hashfed.example/${label}`,
    members: [...validators, observer].map((each, position) => ({
      name: each.name,
      key: each.key.verifierKey.text,
      address: `127.0.0.1:${7400 + position}`,
      role: each.role,
    })),
    parameters,
  });
  return {
    federation: parseFederation(text),
    validators,
    observer,
    forger: privateKeyFromSeed(validators[0]!.name, seedFor(`${label}/forger`)),
    outsider: privateKeyFromSeed(OUTSIDER_NAME, seedFor(`${label}/outsider`)),
  };
}

/** A committed or candidate AddSignal with what went into it. */
export interface AddedEntry extends BatchEntry {
  readonly reveal: Reveal;
  readonly signalType: SignalTypeName;
}

export interface AddOptions {
  readonly signalType?: SignalTypeName;
  /** The raw value; by default derived from the maker's label and counter. */
  readonly value?: Buffer;
  readonly labels?: readonly string[];
  readonly quality?: number;
  readonly taxonomyVersion?: number;
  /** Overrides of the statement's common fields. */
  readonly context?: Partial<StatementContext>;
}

/** The reveal a retraction carries on the wire: present and empty. */
export const EMPTY_REVEAL: Reveal = Object.freeze({ salt: Buffer.alloc(0), value: Buffer.alloc(0) });

/** Builds signed statements for one federation; each call uses fresh (but reproducible) randomness. */
export class StatementMaker {
  private counter = 0;

  constructor(
    readonly federation: Federation,
    readonly label = "statements",
  ) {}

  /** Reproducible bytes for this maker's next use of `purpose`. */
  bytes(purpose: string, length: number): Buffer {
    return pseudoRandomBytes(`${this.label}/${purpose}/${this.counter++}`, length);
  }

  context(submitter: string, overrides: Partial<StatementContext> = {}): StatementContext {
    return {
      federationId: this.federation.id,
      submitter,
      createdAtMs: 1_700_000_000_000n + BigInt(this.counter),
      nonce: this.bytes("nonce", 16),
      ...overrides,
    };
  }

  /** An AddSignal signed by `key`, with its reveal. A PDQ value is never all zero. */
  add(key: PrivateKey, options: AddOptions = {}): AddedEntry {
    const type = options.signalType ?? "sha256";
    const value = options.value ?? this.bytes(`value/${type}`, signalType(type).valueBytes);
    if (type === "pdq" && options.value === undefined) value[0] |= 1;
    const salt = this.bytes("salt", 16);
    const bytes = encodeAddSignal(this.context(key.name, options.context), {
      signalType: type,
      value,
      labels: options.labels ?? [LABEL],
      taxonomyVersion: options.taxonomyVersion ?? this.federation.taxonomy.version,
      quality: options.quality ?? (type === "pdq" ? 90 : 0),
      salt,
    });
    return { signed: signStatement(new KeySigner(key), bytes), reveal: { salt, value }, signalType: type };
  }

  /** A retraction of `target` signed by `key`; its BatchEntry has no reveal. */
  retract(key: PrivateKey, target: StatementId, reason = RetractReason.RETRACT_REASON_FALSE_POSITIVE): BatchEntry {
    const bytes = encodeRetract(this.context(key.name), target, reason);
    return { signed: signStatement(new KeySigner(key), bytes), reveal: undefined };
  }
}

/** The Batch message of `batch` as it travels: header bytes, entries, and one reveal per entry. */
export { wireBatch } from "../../src/replica/peerMessages";

/** A certificate for `batch` at `round` holding the given precommits (default: one per signer). */
export function certificateFor(batch: AssembledBatch, precommits: readonly SignedVote[], round = 0): CommitCertificate {
  return { height: batch.header.height, round, valueId: batch.id, precommits: [...precommits] };
}

/** Precommits for `batch` by each of `members` at `round`. */
export function precommitsBy(federation: Federation, members: readonly TestMember[], batch: AssembledBatch, round = 0): SignedVote[] {
  return members.map((each) => signPrecommit(federation, each.signer, batch, round));
}

/** The ids of statements, as hex, for readable comparisons. */
export function idsOf(entries: readonly { readonly signed: SignedStatement }[]): string[] {
  return entries.map(({ signed }) => signed.id.toString("hex"));
}
