/**
 * Goal: an acknowledged statement survives kill -9 at its acknowledged index, and the log after the
 * restart is an extension of every checkpoint the node ever handed out.
 * Method: a real node process takes 10,000 submissions over gRPC, 8 requests in flight; it is
 * SIGKILLed once about half are acknowledged; after a restart the unacknowledged ones are
 * resubmitted (idempotent, so any that did commit come back at their original index); then every
 * acknowledgement and every checkpoint is checked against what the restarted node serves.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "../../src/audit";
import { call, connectLog, connectMember } from "../../src/client/rpc";
import type { Submission, SubmitResponse } from "../../src/gen/hashfed/v1/member";
import { hashLeaf, verifyConsistency, verifyInclusion } from "../../src/log";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { statementIdOf } from "../../src/statements";
import { type NodeProcess, type SoloSetup, soloFederation, startNodeProcess } from "../support/cluster";

const STATEMENTS = 10_000;
const PER_REQUEST = 50;
const IN_FLIGHT = 8;

function submission(i: number): Submission {
  const value = createHash("sha256").update(`upload ${i}`).digest("hex");
  return { kind: { $case: "add", value: { signalType: "sha256", value, labels: ["graphic-violence"], quality: 0 } } };
}

interface Acked {
  readonly statementId: Buffer;
  readonly logIndex: bigint;
}

/** Submits `items` in requests of PER_REQUEST, IN_FLIGHT at a time; stops early when `stop()` says so. */
async function submitAll(setup: SoloSetup, items: number[], acked: Map<number, Acked>, checkpoints: string[], stop: () => boolean): Promise<void> {
  const member = connectMember(setup.memberAddress);
  const requests: number[][] = [];
  for (let i = 0; i < items.length; i += PER_REQUEST) requests.push(items.slice(i, i + PER_REQUEST));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length && !stop()) {
      const batch = requests[next++]!;
      let response: SubmitResponse;
      try {
        response = await call(member, member.client.submit, { submissions: batch.map(submission) });
      } catch {
        continue; // the node died under this request: nothing in it was acknowledged
      }
      checkpoints.push(response.checkpoint);
      batch.forEach((item, j) => {
        const ack = response.acknowledgements[j]!;
        acked.set(item, { statementId: ack.statementId, logIndex: ack.logIndex });
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  member.client.close();
}

describe("a node killed with SIGKILL mid-stream", () => {
  let setup: SoloSetup;
  let node: NodeProcess | undefined;

  beforeAll(async () => {
    setup = await soloFederation();
  });

  afterAll(async () => {
    await node?.kill("SIGTERM");
    await rm(setup.folder, { recursive: true, force: true });
  });

  test("keeps every acknowledged statement at its index, and its log extends every checkpoint it served", async () => {
    node = await startNodeProcess(setup);
    const acked = new Map<number, Acked>();
    const checkpoints: string[] = [];
    const all = Array.from({ length: STATEMENTS }, (_, i) => i);
    let killed = false;
    const killer = (async () => {
      while (acked.size < STATEMENTS / 2) await new Promise((resolve) => setTimeout(resolve, 5));
      killed = true;
      expect(await node!.kill("SIGKILL")).toBeNull();
    })();
    await submitAll(setup, all, acked, checkpoints, () => killed);
    await killer;
    const ackedBeforeKill = new Map(acked);
    expect(ackedBeforeKill.size).toBeGreaterThanOrEqual(STATEMENTS / 2);
    expect(ackedBeforeKill.size).toBeLessThan(STATEMENTS);

    node = await startNodeProcess(setup);
    // All of them again, the acknowledged too: each of those must be acknowledged as present, at the index it had.
    await submitAll(setup, all, acked, checkpoints, () => false);
    expect(acked.size).toBe(STATEMENTS);
    for (const [item, before] of ackedBeforeKill) expect(acked.get(item)).toEqual(before);

    const log = connectLog(setup.publicAddress);
    const latest = verifyCosignedCheckpoint(setup.federation, (await call(log, log.client.getCheckpoint, {})).checkpoint);
    expect(latest.checkpoint.size).toBe(BigInt(STATEMENTS));

    const served: Buffer[] = [];
    for (let start = 0n; start < latest.checkpoint.size; start += 1000n) {
      const { entries } = await call(log, log.client.getEntries, { start, end: start + 1000n });
      served.push(...entries.map((entry) => statementIdOf(entry.statement)));
    }
    for (const { statementId, logIndex } of acked.values()) expect(served[Number(logIndex)]!.equals(statementId)).toBe(true);

    const seen = new Map<bigint, VerifiedCheckpoint>();
    for (const note of checkpoints) {
      const verified = verifyCosignedCheckpoint(setup.federation, note);
      seen.set(verified.checkpoint.size, verified);
    }
    expect(seen.size).toBeGreaterThan(10);
    for (const earlier of seen.values()) {
      if (earlier.checkpoint.size === latest.checkpoint.size) {
        expect(earlier.checkpoint.root.equals(latest.checkpoint.root)).toBe(true);
        continue;
      }
      const { proof } = await call(log, log.client.getConsistencyProof, { first: earlier.checkpoint.size, second: latest.checkpoint.size });
      verifyConsistency(earlier.checkpoint.size, latest.checkpoint.size, earlier.checkpoint.root, latest.checkpoint.root, proof);
    }

    const sample = [...acked.values()].filter((_, i) => i % 997 === 0);
    for (const { logIndex } of sample) {
      const { entries } = await call(log, log.client.getEntries, { start: logIndex, end: logIndex + 1n });
      const { proof } = await call(log, log.client.getInclusionProof, { index: logIndex, treeSize: latest.checkpoint.size });
      verifyInclusion(logIndex, latest.checkpoint.size, hashLeaf(LogEntry.encode(entries[0]!).finish()), proof, latest.checkpoint.root);
    }
    log.client.close();
  }, 120_000);
});
