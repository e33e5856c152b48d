import { HashfedError, invalid, locating } from "../errors";
import type { MatchQuery, MatchRequest, MatchResponse, MatchResult, SignalMatch } from "../gen/hashfed/v1/member";
import type { IndexHit } from "../index";
import { PDQ_DIHEDRAL_VARIANTS, PDQ_QUALITY_MAX, type PdqDihedralVariant, pdqDihedralVariant, signalType, type SignalType } from "../signals";
import { parseStoredLogEntry, type SignedStatement } from "../statements";
import type { Ledger } from "../ledger/ledger";

/** At most this many queries per Match call. */
export const MATCH_QUERIES_MAX = 10_000;
/** At most this many matches per query; a hash matching more is a hash that matches everything. */
export const MATCHES_PER_QUERY_MAX = 100;
/**
 * At most this many matches in one call's answer, over all its queries. A match with its proof is
 * about 1 KB, so the answer stays within a client's default 4 MiB; without the bound, a request
 * repeating a hash several members share had the node build an answer of hundreds of megabytes.
 */
export const MATCHES_PER_CALL_MAX = 2_000;
/** Why a call was refused for matching too much: `hashfed match --file` then sends fewer queries a call. */
export const MATCH_TOO_MANY_MATCHES = "MATCH_TOO_MANY_MATCHES";
/**
 * PDQ searches one call may make (a dihedral query makes eight): at about 0.3 ms a search with 10
 * million hashes on the list, a call stays within a few seconds of work, taken in 5 ms slices.
 */
export const PDQ_SEARCHES_PER_CALL_MAX = 10_000;

/** A call yields to the event loop after this much matching, so commits and other calls go on during a large batch. */
const MATCH_SLICE_MS = 5;

/**
 * Answers a batch of match queries from the in-memory index: never waits on consensus. The matched
 * entries are read from the store in one read for the whole call. With `includeProof`, every match
 * carries an inclusion proof against the checkpoint returned.
 */
export async function answerMatch(ledger: Ledger, request: MatchRequest): Promise<MatchResponse> {
  const queries = request.queries.map((query, i) => locating(`queries[${i}]`, () => parseQuery(ledger, query)));
  checkWork(queries);
  const treeSize = ledger.treeSize;
  const checkpoint = request.includeProof ? (ledger.checkpoint ?? "") : "";
  const found: { kept: VariantHit[]; truncated: boolean; lowQuality: boolean }[] = [];
  let sliceStart = performance.now();
  let matches = 0;
  for (const [i, query] of queries.entries()) {
    if (performance.now() - sliceStart > MATCH_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    if (query.lowQuality) {
      found.push({ kept: [], truncated: false, lowQuality: true });
      continue;
    }
    const hits = closestPerEntry(ledger, query).filter((hit) => BigInt(hit.logIndex) < treeSize);
    hits.sort((a, b) => a.distance - b.distance || a.logIndex - b.logIndex);
    const kept = hits.slice(0, MATCHES_PER_QUERY_MAX);
    matches += kept.length;
    if (matches > MATCHES_PER_CALL_MAX) {
      throw new HashfedError("exhausted", MATCH_TOO_MANY_MATCHES, `the queries up to queries[${i}] match more than ${MATCHES_PER_CALL_MAX} entries, the most one answer holds; send fewer queries a call`);
    }
    found.push({ kept, truncated: hits.length > kept.length, lowQuality: false });
  }
  const matched = [...new Set(found.flatMap(({ kept }) => kept.map((hit) => hit.logIndex)))];
  const stored = await ledger.store.readEntryBytes(matched.map(BigInt));
  const statements = new Map(matched.map((logIndex, i) => [logIndex, parseStoredLogEntry(stored[i]!)]));
  const proofs = request.includeProof ? await ledger.tree.inclusionProofs(matched.map(BigInt), treeSize) : [];
  const proofOf = new Map(matched.map((logIndex, i) => [logIndex, proofs[i] ?? []]));
  const results: MatchResult[] = found.map(({ kept, truncated, lowQuality }) => ({
    matches: kept.map((hit) => describeMatch(statements.get(hit.logIndex)!, hit, proofOf.get(hit.logIndex)!)),
    truncated,
    lowQuality,
  }));
  return { results, checkpoint };
}

interface VariantHit extends IndexHit {
  /** The dihedral variant of the query that matched; "" for the query as given. */
  readonly variant: PdqDihedralVariant | "";
}

/** The query's hits, and with `dihedral` its variants' too: one per entry, the closest (the query as given on a tie). */
function closestPerEntry(ledger: Ledger, query: ParsedQuery): VariantHit[] {
  const searches: { variant: VariantHit["variant"]; value: Buffer }[] = [{ variant: "", value: query.value }];
  if (query.dihedral) for (const variant of PDQ_DIHEDRAL_VARIANTS) searches.push({ variant, value: pdqDihedralVariant(query.value, variant) });
  const closest = new Map<number, VariantHit>();
  for (const { variant, value } of searches) {
    for (const hit of ledger.index.match(query.type.name, value, query.distanceMax)) {
      const known = closest.get(hit.logIndex);
      if (known === undefined || hit.distance < known.distance) closest.set(hit.logIndex, { ...hit, variant });
    }
  }
  return [...closest.values()];
}

interface ParsedQuery {
  readonly type: SignalType;
  readonly value: Buffer;
  readonly distanceMax: number;
  readonly dihedral: boolean;
  /** Its quality is below the federation's minimum: answered with low_quality, not matched. */
  readonly lowQuality: boolean;
}

function parseQuery(ledger: Ledger, query: MatchQuery): ParsedQuery {
  const { parameters } = ledger.federation;
  const type = signalType(query.signalType);
  const value = type.parse(query.value);
  const distanceMax = query.distanceMax ?? parameters.pdqDistanceMax;
  if (type.name === "pdq" && distanceMax > parameters.pdqDistanceMax) {
    throw invalid("MATCH_DISTANCE_TOO_LARGE", `distance_max is at most the federation's ${parameters.pdqDistanceMax}, got ${distanceMax}`);
  }
  if (type.name !== "pdq" && (query.dihedral || query.quality !== undefined)) {
    throw invalid("MATCH_PDQ_ONLY", `dihedral and quality apply to pdq queries only, not to ${type.name}`);
  }
  if (query.quality !== undefined && query.quality > PDQ_QUALITY_MAX) {
    throw invalid("PDQ_QUALITY_BAD", `a PDQ quality is an integer from 0 to ${PDQ_QUALITY_MAX}, got ${query.quality}`);
  }
  const lowQuality = query.quality !== undefined && query.quality < parameters.pdqQualityMin;
  return { type, value, distanceMax, dihedral: query.dihedral === true, lowQuality };
}

function checkWork(queries: readonly ParsedQuery[]): void {
  if (queries.length > MATCH_QUERIES_MAX) {
    throw invalid("MATCH_TOO_MANY", `a match request holds at most ${MATCH_QUERIES_MAX} queries, got ${queries.length}; split it`);
  }
  const searches = queries.filter((query) => query.type.name === "pdq" && query.distanceMax > 0).reduce((sum, query) => sum + (query.dihedral ? 1 + PDQ_DIHEDRAL_VARIANTS.length : 1), 0);
  if (searches > PDQ_SEARCHES_PER_CALL_MAX) {
    throw new HashfedError(
      "exhausted",
      "MATCH_TOO_MUCH_WORK",
      `a call makes at most ${PDQ_SEARCHES_PER_CALL_MAX} PDQ searches (a dihedral query makes 8), got ${searches}; split the request`,
    );
  }
}

function describeMatch(signed: SignedStatement, hit: VariantHit, inclusionProof: Buffer[]): SignalMatch {
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
    inclusionProof,
    variant: hit.variant,
  };
}
