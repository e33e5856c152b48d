import { HashfedError } from "../errors";
import type { Federation } from "../federation";
import type { BatchEntry } from "../batch";
import type { GossipedStatement } from "../gen/hashfed/v1/peer";
import { checkStatementReveal, checkStatementRules, parseSignedStatement, verifyStatementSignature } from "../statements";

/**
 * Checks a statement gossiped by a peer before it enters the mempool: it parses, follows the
 * federation's rules, carries its submitter's valid signature and a reveal that opens its
 * commitment. Returns undefined for anything else: a peer's bad statement is dropped, not fatal.
 * The log's own rules (duplicates, retraction targets) are applied when a batch is built.
 */
export function admitGossiped(federation: Federation, gossiped: GossipedStatement): BatchEntry | undefined {
  if (gossiped.entry === undefined) return undefined;
  try {
    const signed = parseSignedStatement(gossiped.entry.statement, gossiped.entry.signature);
    const member = checkStatementRules(federation, signed);
    verifyStatementSignature(member, signed);
    checkStatementReveal(signed, gossiped.reveal);
    return { signed, reveal: signed.statement.body!.$case === "addSignal" ? gossiped.reveal : undefined };
  } catch (error) {
    if (error instanceof HashfedError) return undefined;
    throw error;
  }
}
