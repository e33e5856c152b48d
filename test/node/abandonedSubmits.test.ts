/**
 * Goal: a Submit whose client stops waiting (its deadline passes, or it cancels) leaves nothing
 * behind at the node. While consensus stalls, a member's system that retries with a deadline, as
 * it may (submitting is idempotent), had left a waiter and its whole request at every try.
 * Method: the waiters alone (which waits an abandonment drops); then one real
 * node, in-process, of a federation of four whose other three are down, so nothing commits, and
 * clients that give up after 200 ms (and the CLI's `submit --timeout`).
 */
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { call, connectMember } from "../../src/client/rpc";
import { HashfedNode } from "../../src/node/hashfedNode";
import { CommitWaiters } from "../../src/replica/commitWaiters";
import { parseStatementId, statementIdKey } from "../../src/statements";
import { runCli } from "../support/cli";
import { localFederation } from "../support/cluster";
import { addSubmission, randomHex32, rpcRejection } from "../support/submissions";

test("an abandoned call's waits are dropped and rejected; the others still resolve at commit", async () => {
  const waiters = new CommitWaiters();
  const [a, b] = [parseStatementId("01".repeat(32)), parseStatementId("02".repeat(32))];
  const gone = new AbortController();
  const stays = new AbortController();
  const abandoned = [waiters.wait(a, gone.signal), waiters.wait(b, gone.signal)];
  const kept = waiters.wait(a, stays.signal);
  expect(waiters.waiting).toBe(3);
  gone.abort();
  for (const wait of abandoned) await expect(wait).rejects.toMatchObject({ code: "SUBMIT_ABANDONED" });
  expect(waiters.waiting).toBe(1);
  waiters.committed(statementIdKey(a), 7);
  await expect(kept).resolves.toBe(7);
  expect(waiters.waiting).toBe(0);
  // A call already abandoned waits for nothing.
  await expect(waiters.wait(b, gone.signal)).rejects.toMatchObject({ code: "SUBMIT_ABANDONED" });
  expect(waiters.waiting).toBe(0);
});

test("Submits retried with a deadline while nothing commits leave no waits at the node", async () => {
  const members = await localFederation(["a.example", "b.example", "c.example", "d.example"]);
  const [first] = members;
  const node = await HashfedNode.start({
    dataDir: join(first!.folder, "in-process"),
    federation: first!.federation,
    key: first!.key,
    memberAddress: "127.0.0.1:0",
    publicAddress: "127.0.0.1:0",
    log: () => {},
  });
  const client = connectMember(`127.0.0.1:${node.memberPort}`);
  try {
    const submissions = Array.from({ length: 100 }, () => addSubmission("sha256", randomHex32()));
    for (let retry = 0; retry < 5; retry++) {
      const error = await rpcRejection(call(client, client.client.submit, { submissions }, 200));
      expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    }
    // The statements stay pending, to commit when the others return; no one waits for them.
    expect(node.replica.mempool.size).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(node.replica.waiters.waiting).toBe(0);

    // A client that cancels, rather than letting its deadline pass, leaves nothing either.
    const cancelled = await new Promise<number>((resolve) => {
      const inFlight = client.client.submit({ submissions: submissions.slice(0, 10) }, client.metadata, (error) => resolve(error?.code ?? status.OK));
      setTimeout(() => inFlight.cancel(), 200);
    });
    expect(cancelled).toBe(status.CANCELLED);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(node.replica.waiters.waiting).toBe(0);

    // What an operator sees: no peer, no commit; and the CLI's submit gives up when told to.
    const stalled = await call(client, client.client.status, {});
    expect({ peers: stalled.peersConnected, lastCommit: stalled.lastCommitMsAgo }).toEqual({ peers: [], lastCommit: undefined });
    const cli = await runCli(["submit", "--type", "sha256", "--value", randomHex32(), "--label", "graphic-violence", "--timeout", "300", "--node", `127.0.0.1:${node.memberPort}`]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe("hashfed: not committed within 300 ms (is a quorum of validators up? see hashfed status); it may still commit, and submitting it again is safe\n");
    const printed = await runCli(["status", "--node", `127.0.0.1:${node.memberPort}`]);
    expect(printed.stdout).toContain("peers connected: none; last commit none since the node started\n");
    expect(node.replica.waiters.waiting).toBe(0);
  } finally {
    client.client.close();
    await node.stop();
    await rm(first!.folder, { recursive: true, force: true });
  }
});
