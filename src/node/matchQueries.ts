import { invalid, locating } from "../errors";
import type { MatchRequest, MatchResponse, SignalMatch } from "../gen/hashfed/v1/member";
import { signalType } from "../signals";
import { parseStoredLogEntry } from "../statements";
import type { Ledger } from "./ledger";

/** At most this many queries per Match call, so one call cannot hold the node for long. */
export const MATCH_QUERIES_MAX = 10_000;

/**
 * Answers a batch of match queries from the in-memory index: never waits on consensus. With
 * `includeProof`, every match carries an inclusion proof against the checkpoint returned.
 */
export async function answerMatch(ledger: Ledger, request: MatchRequest): Promise<MatchResponse> {
  const { parameters } = ledger.federation;
  if (request.queries.length > MATCH_QUERIES_MAX) {
    throw invalid("MATCH_TOO_MANY", `a match request holds at most ${MATCH_QUERIES_MAX} queries, got ${request.queries.length}; split it`);
  }
  const treeSize = ledger.treeSize;
  const checkpoint = request.includeProof ? (ledger.checkpoint ?? "") : "";
  const parsed = request.queries.map((query, i) => {
    const where = `queries[${i}]`;
    const type = locating(where, () => signalType(query.signalType));
    const value = locating(where, () => type.parse(query.value));
    const distanceMax = query.distanceMax ?? parameters.pdqDistanceMax;
    if (type.name === "pdq" && (!Number.isInteger(distanceMax) || distanceMax > parameters.pdqDistanceMax)) {
      throw invalid("MATCH_DISTANCE_TOO_LARGE", `${where}: distance_max is at most the federation's ${parameters.pdqDistanceMax}, got ${distanceMax}`);
    }
    return ledger.index.match(type.name, value, distanceMax).filter((hit) => BigInt(hit.logIndex) < treeSize);
  });
  const results = await Promise.all(
    parsed.map(async (hits) => ({
      matches: await Promise.all(hits.map(async (hit): Promise<SignalMatch> => {
        const stored = await ledger.store.readEntry(BigInt(hit.logIndex));
        const signed = parseStoredLogEntry(stored!.entryBytes);
        const body = signed.statement.body!;
        const add = body.$case === "addSignal" ? body.value : undefined;
        return {
          statementId: signed.id,
          logIndex: BigInt(hit.logIndex),
          submitter: signed.statement.submitter,
          signalType: add?.signalType ?? "",
          labels: add?.labels ?? [],
          taxonomyVersion: add?.taxonomyVersion ?? 0,
          distance: hit.distance,
          inclusionProof: request.includeProof ? await ledger.tree.inclusionProof(BigInt(hit.logIndex), treeSize) : [],
        };
      })),
    })),
  );
  return { results, checkpoint };
}
