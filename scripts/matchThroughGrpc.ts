/**
 * Matching end to end through gRPC, for bench:match: one node serving a log fixture, a client
 * sending Match calls of `batch` PDQ queries (near-duplicates of hashes on the list and random
 * misses, half each) at distance 31, with `inFlight` calls at once.
 */
import { randomBytes } from "node:crypto";
import { call, connectMember } from "../src/client/rpc";
import type { MatchQuery } from "../src/gen/hashfed/v1/member";
import { startNodeProcess } from "../test/support/cluster";
import { ensureLogFixture, median, seconds } from "./benchSupport";

export interface GrpcMatchOptions {
  /** Where the log fixture is kept (built once, reused while its size matches). */
  readonly fixture: string;
  /** Entries on the log; a third are PDQ hashes. */
  readonly entries: number;
  readonly batch: number;
  readonly inFlight: number;
  readonly seconds: number;
  readonly runs: number;
}

export interface GrpcMatchResult {
  readonly pdqHashes: number;
  readonly hashesPerSecond: number;
  readonly callP50Ms: number;
  readonly callP99Ms: number;
  /** Planted near-duplicates that came back matched, of those sent: must be all. */
  readonly plantedFound: number;
  readonly plantedSent: number;
}

/** Bits 0..distance-1 of every fourth byte flipped: a near-duplicate at exactly `distance` (<= 64). */
function nearDuplicate(value: Buffer, distance: number): string {
  const copy = Buffer.from(value);
  for (let bit = 0; bit < distance; bit++) copy[(bit % 8) * 4]! ^= 1 << (bit >> 3);
  return copy.toString("hex");
}

export async function matchThroughGrpc(options: GrpcMatchOptions): Promise<GrpcMatchResult> {
  const fixture = await ensureLogFixture(options.fixture, options.entries, false);
  const node = await startNodeProcess(fixture);
  const client = connectMember(fixture.memberAddress);
  try {
    // PDQ entries are every third from 0 (benchSupport.signedAdds); their values come with the reveals.
    const stored: Buffer[] = [];
    for (let index = 0n; stored.length < 256 && index < BigInt(options.entries); index += 3n) {
      const view = await call(client, client.client.getEntry, { key: { $case: "logIndex", value: index } });
      if (view.reveal !== undefined) stored.push(Buffer.from(view.reveal.value));
    }
    const pdqHashes = Math.ceil(options.entries / 3);
    const queriesOf = (): MatchQuery[] =>
      Array.from({ length: options.batch }, (_, i) =>
        i % 2 === 0
          ? { signalType: "pdq", value: nearDuplicate(stored[(i >> 1) % stored.length]!, (i >> 1) % 32), distanceMax: 31 }
          : { signalType: "pdq", value: randomBytes(32).toString("hex"), distanceMax: 31 },
      );
    await call(client, client.client.match, { queries: queriesOf(), includeProof: false });
    const rates: number[] = [];
    const callMs: number[] = [];
    let plantedFound = 0;
    let plantedSent = 0;
    for (let run = 0; run < options.runs; run++) {
      let hashes = 0;
      const start = process.hrtime.bigint();
      const deadline = Date.now() + options.seconds * 1000;
      const worker = async (): Promise<void> => {
        while (Date.now() < deadline) {
          const queries = queriesOf();
          const sent = performance.now();
          const response = await call(client, client.client.match, { queries, includeProof: false });
          callMs.push(performance.now() - sent);
          hashes += queries.length;
          response.results.forEach((result, i) => {
            if (i % 2 !== 0) return;
            plantedSent++;
            if (result.matches.length > 0) plantedFound++;
          });
        }
      };
      await Promise.all(Array.from({ length: options.inFlight }, worker));
      rates.push(hashes / seconds(start));
    }
    callMs.sort((a, b) => a - b);
    return {
      pdqHashes,
      hashesPerSecond: median(rates),
      callP50Ms: callMs[Math.floor(callMs.length * 0.5)]!,
      callP99Ms: callMs[Math.floor(callMs.length * 0.99)]!,
      plantedFound,
      plantedSent,
    };
  } finally {
    client.client.close();
    await node.kill("SIGTERM");
  }
}
