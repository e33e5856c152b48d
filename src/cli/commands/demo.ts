import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "../../audit";
import { generateSeed, privateKeyFromSeed } from "../../crypto";
import { type Federation, formatFederationFile, parseFederation } from "../../federation";
import { hashLeaf, verifyConsistency, verifyInclusion } from "../../log";
import { HashfedNode } from "../../node/hashfedNode";
import { LogEntry, RetractReason } from "../../gen/hashfed/v1/statement";
import { print } from "../output";
import { call, type Connection, connectLog, connectMember } from "../../client/rpc";
import type { LogClient } from "../../gen/hashfed/v1/log";
import type { MemberClient, Submission } from "../../gen/hashfed/v1/member";

const MEMBER = "videohost.example";

/** A PDQ hash at exactly `distance` bits from `hash`. */
function nearDuplicate(hash: Buffer, distance: number): Buffer {
  const copy = Buffer.from(hash);
  for (let bit = 0; bit < distance; bit++) copy[bit * 3 >> 3]! ^= 1 << ((bit * 3) & 7);
  return copy;
}

interface Items {
  readonly pdq: Buffer;
  readonly md5: Buffer;
  readonly sha256: Buffer;
}

const add = (signalType: string, value: Buffer, label: string, quality = 0): Submission => ({
  kind: { $case: "add", value: { signalType, value: value.toString("hex"), labels: [label], quality } },
});

async function submitItems(member: Connection<MemberClient>, federation: Federation, items: Items): Promise<{ md5Statement: Buffer; checkpoint: VerifiedCheckpoint }> {
  print("2. Moderators confirm three items; the node signs them and commits them to the log");
  const response = await call(member, member.client.submit, {
    submissions: [add("pdq", items.pdq, "graphic-violence", 92), add("md5", items.md5, "content-incident-protocol"), add("sha256", items.sha256, "attacker-manifesto")],
  });
  for (const ack of response.acknowledgements) print(`   committed at log index ${ack.logIndex}: statement ${ack.statementId.toString("hex").slice(0, 16)}…`);
  return { md5Statement: response.acknowledgements[1]!.statementId, checkpoint: verifyCosignedCheckpoint(federation, response.checkpoint) };
}

async function matchUploads(member: Connection<MemberClient>, items: Items): Promise<void> {
  print("3. Uploads are matched in microseconds: a re-encoded copy (PDQ distance 9), the exact file, an unrelated image");
  const matches = await call(member, member.client.match, {
    queries: [
      { signalType: "pdq", value: nearDuplicate(items.pdq, 9).toString("hex") },
      { signalType: "md5", value: items.md5.toString("hex") },
      { signalType: "pdq", value: randomBytes(32).toString("hex") },
    ],
    includeProof: false,
  });
  for (const [i, result] of matches.results.entries()) {
    const found = result.matches.map((m) => `log index ${m.logIndex} (distance ${m.distance}, labels ${m.labels.join(",")})`);
    print(`   query ${i + 1}: ${found.length > 0 ? `match at ${found.join("; ")}` : "no match"}`);
  }
}

async function retractMistake(member: Connection<MemberClient>, items: Items, md5Statement: Buffer): Promise<void> {
  print("4. The md5 entry was a mistake: the member retracts it, and it stops matching");
  await call(member, member.client.submit, {
    submissions: [{ kind: { $case: "retract", value: { target: md5Statement, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }],
  });
  const after = await call(member, member.client.match, { queries: [{ signalType: "md5", value: items.md5.toString("hex") }], includeProof: false });
  print(`   md5 query now: ${after.results[0]!.matches.length === 0 ? "no match" : "still matches (unexpected)"}`);
}

/** What an auditor does, with the Log service and the federation file only. */
async function audit(log: Connection<LogClient>, federation: Federation, earlier: VerifiedCheckpoint): Promise<VerifiedCheckpoint> {
  print("5. An auditor checks the log without seeing any hash: checkpoint, inclusion and consistency");
  const latest = verifyCosignedCheckpoint(federation, (await call(log, log.client.getCheckpoint, {})).checkpoint);
  for (const line of latest.note.trimEnd().split("\n")) print(`   | ${line}`);
  print(`   cosigned by ${latest.signers.join(", ")}: a quorum of the federation's validators`);
  const { size, root } = latest.checkpoint;
  const inclusion = await call(log, log.client.getInclusionProof, { index: 0n, treeSize: size });
  verifyInclusion(0n, size, inclusion.leafHash, inclusion.proof, root);
  const entries = await call(log, log.client.getEntries, { start: 0n, end: 1n });
  const leafOk = hashLeaf(LogEntry.encode(entries.entries[0]!).finish()).equals(inclusion.leafHash);
  print(`   entry 0 is included in the tree of size ${size} (leaf served matches: ${leafOk})`);
  const consistency = await call(log, log.client.getConsistencyProof, { first: earlier.checkpoint.size, second: size });
  verifyConsistency(earlier.checkpoint.size, size, earlier.checkpoint.root, root, consistency.proof);
  print(`   the tree of size ${earlier.checkpoint.size} is a prefix of the tree of size ${size}: the log only grew`);
  return latest;
}

async function runDemo(keep: boolean): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), "hashfed-demo-"));
  const key = privateKeyFromSeed(MEMBER, generateSeed());
  const federation = parseFederation(formatFederationFile({
    origin: "hashfed.example/demo",
    members: [{ name: MEMBER, key: key.verifierKey.text, address: "127.0.0.1:7401", role: "validator" }],
  }));
  print(`1. A federation of one member, ${MEMBER}, in ${folder}`);
  print(`   federation id ${federation.id.toString("hex")}`);
  const options = { dataDir: join(folder, MEMBER), federation, key, memberAddress: "127.0.0.1:0", publicAddress: "127.0.0.1:0", log: () => {} };
  let node = await HashfedNode.start(options);
  try {
    const items: Items = {
      pdq: randomBytes(32),
      md5: createHash("md5").update("attacker video, first upload").digest(),
      sha256: createHash("sha256").update("attacker manifesto.pdf").digest(),
    };
    const member = connectMember(`127.0.0.1:${node.memberPort}`);
    const log = connectLog(`127.0.0.1:${node.publicPort}`);
    const { md5Statement, checkpoint } = await submitItems(member, federation, items);
    await matchUploads(member, items);
    await retractMistake(member, items, md5Statement);
    const latest = await audit(log, federation, checkpoint);
    member.client.close();
    log.client.close();

    print("6. The node restarts from its data folder and serves the same log");
    await node.stop();
    node = await HashfedNode.start(options);
    const restarted = connectMember(`127.0.0.1:${node.memberPort}`);
    const status = await call(restarted, restarted.client.status, {});
    print(`   log size ${status.treeSize}, ${status.liveSignals} live signals, ${status.retractions} retraction; checkpoint unchanged: ${status.checkpoint === latest.note}`);
    restarted.client.close();
    print("Done.");
  } finally {
    await node.stop();
    if (!keep) await rm(folder, { recursive: true, force: true });
  }
}

export function addDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("run a local federation demo with embedded storage in a temporary folder")
    .option("--keep", "keep the temporary folder")
    .action((options: { keep?: boolean }) => runDemo(options.keep === true));
}
