import { HashfedError } from "../errors";
import type { Federation, Member } from "../federation";
import type { BatchEntry } from "../batch";
import type { GossipedStatement } from "../gen/hashfed/v1/peer";
import { checkStatementReveal, checkStatementRules, parseSignedStatement, type StatementId } from "../statements";

/**
 * The checks of a statement gossiped by a peer that need no signature check: it parses, follows
 * the federation's rules, and carries a reveal that opens its commitment. Returns undefined for
 * anything else: a peer's bad statement is dropped, not fatal. The signature is checked next, in
 * bulk; the log's own rules (duplicates, retraction targets) when a batch is built.
 */
export function parseGossiped(federation: Federation, gossiped: GossipedStatement, id: StatementId): { entry: BatchEntry; member: Member } | undefined {
  if (gossiped.entry === undefined) return undefined;
  try {
    const signed = parseSignedStatement(gossiped.entry.statement, gossiped.entry.signature, id);
    const member = checkStatementRules(federation, signed);
    checkStatementReveal(signed, gossiped.reveal);
    return { entry: { signed, reveal: signed.statement.body!.$case === "addSignal" ? gossiped.reveal : undefined }, member };
  } catch (error) {
    if (error instanceof HashfedError) return undefined;
    throw error;
  }
}
