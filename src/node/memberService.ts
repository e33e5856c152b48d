import type { ServerWritableStream } from "@grpc/grpc-js";
import { HashfedError } from "../errors";
import type { EntryView, FollowRequest, MemberServer } from "../gen/hashfed/v1/member";
import { parseStatementId } from "../statements";
import { abandonment, checkDecoded, type ErrorReporter, grpcStatusOf, unary } from "./grpcHandlers";
import { entryView } from "./entryView";
import { RecentBatches } from "./recentBatches";
import type { Ledger } from "../ledger/ledger";
import { answerMatch } from "./matchQueries";
import type { Replica } from "../replica/replica";
import type { PeerNetwork } from "../peer/peerNetwork";
import type { Clock } from "./environment";
import type { SubmissionIntake } from "./submissionIntake";

export interface MemberServiceModules {
  readonly ledger: Ledger;
  readonly intake: SubmissionIntake;
  readonly replica: Pick<Replica, "mempool" | "participation">;
  readonly memberName: string;
  readonly version: string;
  readonly report: ErrorReporter;
  readonly peers: Pick<PeerNetwork, "connectedMembers">;
  readonly clock: Clock;
}

/** The Member service: the member's own systems submit, match, read and follow through it. */
export function memberService(modules: MemberServiceModules): MemberServer {
  const { ledger, intake, report, clock } = modules;
  let followers = 0;
  let lastCommitAt: bigint | undefined;
  ledger.onCommit(() => (lastCommitAt = clock.nowMs()));
  return {
    submit: unary("Submit", report, (request, call) => intake.submit(request.submissions, abandonment(call))),
    match: unary("Match", report, (request) => answerMatch(ledger, request)),
    getEntry: unary("GetEntry", report, async (request) => {
      const key = request.key;
      if (key === undefined) throw new HashfedError("invalid", "ENTRY_KEY_MISSING", "give a statement_id or a log_index");
      let index: bigint | undefined;
      if (key.$case === "logIndex") {
        index = key.value;
        if (index >= ledger.treeSize) {
          throw new HashfedError("out-of-range", "INDEX_OUT_OF_RANGE", `log index ${index} is beyond the log's size ${ledger.treeSize}`);
        }
      } else {
        const id = parseStatementId(key.value, "statement_id");
        const found = ledger.indexOf(id);
        if (found === undefined) throw new HashfedError("not-found", "STATEMENT_UNKNOWN", `no committed entry has statement id ${id.toString("hex")}`);
        index = BigInt(found);
      }
      return entryView(ledger, (await ledger.store.readEntry(index))!);
    }),
    follow: (call) => {
      if (followers >= FOLLOW_STREAMS_MAX) {
        call.emit("error", grpcStatusOf(new HashfedError("exhausted", "FOLLOWERS_FULL", `this node serves at most ${FOLLOW_STREAMS_MAX} Follow streams at once; close one or retry later`), "Follow", report));
        return;
      }
      followers++;
      void follow(ledger, call, report).finally(() => followers--);
    },
    status: unary("Status", report, async () => ({
      member: modules.memberName,
      origin: ledger.federation.origin,
      federationId: ledger.federation.id,
      treeSize: ledger.treeSize,
      height: ledger.head.height,
      checkpoint: ledger.checkpoint ?? "",
      liveSignals: BigInt(ledger.state.liveSignals),
      retractions: BigInt(ledger.state.retractions),
      pendingStatements: modules.replica.mempool.size,
      version: modules.version,
      participation: modules.replica.participation,
      peersConnected: modules.peers.connectedMembers(),
      // A clock set back since the commit reads as "just now".
      lastCommitMsAgo: lastCommitAt === undefined ? undefined : bigintMax(0n, clock.nowMs() - lastCommitAt),
    })),
  };
}

/** Each Follow stream holds a listener and up to a chunk of entries: bounded, like everything else. */
export const FOLLOW_STREAMS_MAX = 64;

/**
 * How far beyond its log a node lets a Follow start, in batches: nodes commit the same batches a
 * moment apart, so a client that resumes at another node, or learned an index from one, may be a
 * few batches ahead of this one; the stream then waits for the log to get there. Farther ahead, the
 * index is more likely wrong than early.
 */
export const FOLLOW_AHEAD_BATCHES_MAX = 16;

/**
 * Streams committed entries from the requested index, then each new batch as it commits, until the
 * client cancels. Honours back-pressure: it reads the next chunk only when the client has taken
 * the last one; a client that goes away while the stream is full ends it too.
 */
async function follow(ledger: Ledger, call: ServerWritableStream<FollowRequest, EntryView>, report: ErrorReporter): Promise<void> {
  let unsubscribe = (): void => {};
  try {
    let next = checkDecoded(call.request, "FollowRequest").fromIndex;
    const aheadMax = BigInt(FOLLOW_AHEAD_BATCHES_MAX * ledger.federation.parameters.batchEntriesMax);
    if (next > ledger.treeSize + aheadMax) {
      throw new HashfedError(
        "out-of-range",
        "INDEX_OUT_OF_RANGE",
        `from_index ${next} is more than ${FOLLOW_AHEAD_BATCHES_MAX} batches (${aheadMax} entries) beyond the log's size ${ledger.treeSize}: ask Status for the size`,
      );
    }
    let wake: () => void = () => {};
    // Two full batches: a follower that keeps up never reads what it was just told was committed.
    const recent = new RecentBatches(2 * ledger.federation.parameters.batchEntriesMax);
    unsubscribe = ledger.onCommit((batch) => {
      recent.add(batch);
      wake();
    });
    const gone = new Promise<void>((resolve) => call.once("cancelled", resolve));
    void gone.then(() => wake());
    const chunk = BigInt(ledger.federation.parameters.followBatchEntriesMax);
    while (!call.cancelled) {
      if (next >= ledger.treeSize) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const end = next + chunk < ledger.treeSize ? next + chunk : ledger.treeSize;
      for (const stored of recent.entries(next, end) ?? (await ledger.store.readEntries(next, end, true))) {
        if (call.cancelled) break;
        if (!call.write(await entryView(ledger, stored))) await Promise.race([new Promise((resolve) => call.once("drain", resolve)), gone]);
      }
      next = end;
    }
  } catch (error) {
    call.emit("error", grpcStatusOf(error, "Follow", report));
  } finally {
    unsubscribe();
  }
}

function bigintMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
