import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuditEnvironment, Auditor, type AuditReport, StateFolder } from "../../src/audit";
import { parseSignedStatement, type SignedStatement } from "../../src/statements";
import { flipBit } from "../crypto/testBytes";
import type { FakeLogNode } from "../support/fakeLogNode";
import { federationFixture, type FederationFixture, StatementMaker } from "../support/statements";

/** Shared by the auditor's tests: a four-validator federation, logs to serve, and one audit round run in-process. */

export const fixture: FederationFixture = federationFixture({ validatorCount: 4, label: "audit" });
export const [alpha, bravo, charlie, delta] = fixture.validators;

/**
 * `count` statements by the members in turn, the fourth a retraction of the first (same
 * submitter); `label` makes different logs for different labels.
 */
export function statementsFor(count: number, label: string): SignedStatement[] {
  const maker = new StatementMaker(fixture.federation, label);
  const authors = [...fixture.validators, fixture.observer];
  const statements: SignedStatement[] = [];
  for (let i = 0; i < count; i++) {
    if (i === 3) statements.push(maker.retract(alpha.key, statements[0]!.id).signed);
    else statements.push(maker.add(authors[i % authors.length]!.key, { signalType: i % 2 === 0 ? "sha256" : "md5" }).signed);
  }
  return statements;
}

/** The same statement with one bit of its signature flipped. */
export function withBadSignature(signed: SignedStatement): SignedStatement {
  return parseSignedStatement(signed.bytes, flipBit(signed.signature, 9));
}

export function stateFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), "hashfed-audit-test-"));
}

/** A fixed clock that moves a second per reading, and draws that are the same on every run. */
export function testEnvironment(): AuditEnvironment {
  let seconds = 0;
  let draws = 0;
  return {
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds++)),
    randomBelow: (bound) => BigInt(draws++ * 7919) % bound,
    hashSeed: [1, 2],
  };
}

export interface RoundOptions {
  readonly full?: boolean;
  readonly samples?: number;
  readonly addresses?: readonly string[];
  /** Where fork evidence goes; the state folder by default. */
  readonly evidenceFolder?: string;
}

/** One audit round of `nodes` with the state kept in `state`. */
export async function auditRound(nodes: readonly FakeLogNode[], state: string, options: RoundOptions = {}): Promise<AuditReport> {
  const folder = await StateFolder.open(state, fixture.federation);
  const auditor = new Auditor(
    {
      federation: fixture.federation,
      addresses: options.addresses ?? nodes.map((node) => node.address),
      full: options.full ?? false,
      samples: options.samples ?? 4,
      evidenceFolder: options.evidenceFolder ?? state,
      deadlineMs: 5000,
      workers: 1,
    },
    testEnvironment(),
  );
  try {
    return await auditor.round(folder);
  } finally {
    await auditor.close();
    await folder.close();
  }
}

/** "CODE: message" of each finding, for readable expectations. */
export function findingsOf(report: AuditReport): string[] {
  return report.findings.map((finding) => `${finding.severity} ${finding.code}: ${finding.message}`);
}
