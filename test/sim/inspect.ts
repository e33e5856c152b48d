import type { Replica } from "../../src/replica/replica";
import { FutureMessages } from "../../src/replica/futureMessages";

/**
 * What a stuck replica was doing, for failure reports: its height, round, step, locks, the
 * proposals and votes it counted in its current round, what it holds back. It reads private
 * fields of the replica and its core (test-only introspection), so it describes defensively: a
 * field that moved in src/ shows as "?" instead of breaking the report.
 */
export function describeReplica(replica: Replica): string {
  try {
    const inner = replica as unknown as ReplicaInternals;
    const core = inner.core;
    const parts = [`head ${replica.ledger.head.height}`, `mempool ${replica.mempool.size}`];
    if (inner.listening === true) parts.push("LISTENING");
    if (core !== undefined) {
      const state = core.roundState;
      parts.push(
        `at ${state.height}/${state.round} step ${["propose", "prevote", "precommit"][state.step] ?? state.step}`,
        `locked ${short(state.lockedValue)}@${state.lockedRound}`,
        `valid ${short(state.validValue)}@${state.validRound}`,
      );
      if (core.isDecided) parts.push("DECIDED");
      if (core.active === false) parts.push("idle");
      const proposal = core.proposalIn(state.round);
      parts.push(`proposal ${proposal === undefined ? "none" : `${short(proposal.valueId)} vr ${proposal.validRound}`}`);
      const votes = core.votes.votesInRound(state.round);
      const tally = (kind: string): string =>
        votes
          .filter((vote) => vote.kind === kind)
          .map((vote) => `${vote.validator.split(".")[0]}:${short(vote.valueId)}`)
          .join(" ");
      parts.push(`prevotes [${tally("prevote")}]`, `precommits [${tally("precommit")}]`);
    }
    if (inner.values instanceof Map) parts.push(`values ${[...inner.values.keys()].map(short).join(",") || "none"}`);
    if (inner.heldPrecommits instanceof Map && inner.heldPrecommits.size > 0) parts.push(`held precommits for ${[...inner.heldPrecommits.keys()].map(short).join(",")}`);
    if (inner.futureMessages instanceof FutureMessages) parts.push(`future messages ${inner.futureMessages.size}`);
    return parts.join(", ");
  } catch (error) {
    return `? (${(error as Error).message})`;
  }
}

interface ReplicaInternals {
  readonly core?: {
    readonly roundState: { height: bigint; round: number; step: number; lockedValue: string | null; lockedRound: number; validValue: string | null; validRound: number };
    readonly isDecided: boolean;
    readonly active?: boolean;
    proposalIn(round: number): { valueId: string; validRound: number } | undefined;
    readonly votes: { votesInRound(round: number): { kind: string; validator: string; valueId: string | null }[] };
  };
  readonly listening?: boolean;
  readonly values?: Map<string, unknown>;
  readonly heldPrecommits?: Map<string, unknown>;
  readonly futureMessages?: unknown;
}

function short(id: string | null): string {
  return id === null ? "nil" : id.slice(0, 8);
}
