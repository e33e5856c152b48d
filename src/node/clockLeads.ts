import type { AssembledBatch } from "../batch";
import type { Federation } from "../federation";
import type { Ledger } from "../ledger";
import type { Clock } from "./environment";

/**
 * How far ahead of this node's clock a committed batch's time, or one of its statements' times,
 * may be before the node says so. A time is taken before its batch commits, so on clocks that
 * agree it is never ahead by more than their drift; clocks kept by NTP agree within milliseconds.
 */
export const CLOCK_LEAD_NOTICE_MS = 5_000;
/** How long after naming a member's clock the node names it again. */
export const CLOCK_LEAD_NOTICE_INTERVAL_MS = 10 * 60_000;
const NOTICE_MS = BigInt(CLOCK_LEAD_NOTICE_MS);
const NOTICE_INTERVAL_MS = BigInt(CLOCK_LEAD_NOTICE_INTERVAL_MS);

/**
 * How far ahead of `nowMs` the times other members put in a committed batch are, per member: the
 * proposer's time and its statements' creation times, the largest per member, only those ahead by
 * more than CLOCK_LEAD_NOTICE_MS. Only leads are read: a time behind this node's clock may be a
 * batch fetched while catching up, but a time ahead can only be a clock off.
 */
export function clockLeads(batch: AssembledBatch, ownName: string, nowMs: bigint): Map<string, bigint> {
  const leads = new Map<string, bigint>();
  // One comparison per entry on the commit path; a lead is worked out only past the threshold.
  const noticedAbove = nowMs + NOTICE_MS;
  const consider = (member: string, timeMs: bigint): void => {
    if (timeMs <= noticedAbove || member === ownName) return;
    const lead = timeMs - nowMs;
    if (lead > (leads.get(member) ?? 0n)) leads.set(member, lead);
  };
  consider(batch.header.proposer, batch.header.proposerTimeMs);
  for (const { signed } of batch.entries) consider(signed.statement.submitter, signed.statement.createdAtMs);
  return leads;
}

/**
 * Says in the node's log when committed batches carry other members' times ahead of this node's
 * clock. Statements and batches carry their signer's clock and audits tally entries by their
 * statements' days, so a clock far off misleads every reader of the log; no rule of the log
 * depends on it, so the node only says so. A node whose clock runs fast is named by the others;
 * one whose clock runs slow sees the others ahead, and once two or more validators and most of the
 * other validators are, it says its own clock is the likely one (one fast clock, or a Byzantine
 * validator's made-up times, must not make every other node blame its own).
 */
export class ClockLeadNotices {
  /** When each member's lead was last said, on this node's clock. */
  private readonly noticedAt = new Map<string, bigint>();
  private readonly unsubscribe: () => void;

  constructor(
    ledger: Ledger,
    private readonly federation: Federation,
    private readonly ownName: string,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {
    this.unsubscribe = ledger.onCommit((batch) => this.onCommit(batch));
  }

  stop(): void {
    this.unsubscribe();
  }

  private onCommit(batch: AssembledBatch): void {
    const now = this.clock.nowMs();
    const leads = [...clockLeads(batch, this.ownName, now)].filter(([member]) => !this.noticedSince(member, now));
    if (leads.length === 0) return;
    for (const [member] of leads) this.noticedAt.set(member, now);
    const named = leads.map(([member, lead]) => `${member} ${(Number(lead) / 1000).toFixed(1)} s`).join(", ");
    const others = this.federation.validators.filter(({ name }) => name !== this.ownName);
    const ahead = others.filter(({ name }) => this.noticedSince(name, now)).length;
    const verdict =
      ahead >= 2 && 2 * ahead > others.length
        ? `${ahead} of the ${others.length} other validators are ahead: this node's clock is most likely slow`
        : "their clocks run fast or this node's runs slow";
    this.log(
      `${this.ownName}: batch ${batch.header.height} carries times ahead of this node's clock (${named}): ${verdict}; ` +
        `statements and batches carry their signer's time, which audits read: check the clocks (NTP)`,
    );
  }

  /** Whether `member` was named within the interval (a clock set back since counts as not). */
  private noticedSince(member: string, now: bigint): boolean {
    const at = this.noticedAt.get(member);
    return at !== undefined && at <= now && now - at < NOTICE_INTERVAL_MS;
  }
}
