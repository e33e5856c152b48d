import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { verifyCosignedCheckpoint } from "../../audit";
import { generateSeed, privateKeyFromSeed } from "../../crypto";
import { formatFederationFile, parseFederation } from "../../federation";
import { hashLeaf, verifyConsistency, verifyInclusion } from "../../log";
import { HashfedNode } from "../../node/hashfedNode";
import { LogEntry, RetractReason } from "../../gen/hashfed/v1/statement";
import { print } from "../output";
import { call, connectLog, connectMember } from "../../client/rpc";

const MEMBER = "videohost.example";

/** A PDQ hash at exactly `distance` bits from `hash`. */
function nearDuplicate(hash: Buffer, distance: number): Buffer {
  const copy = Buffer.from(hash);
  for (let bit = 0; bit < distance; bit++) copy[bit * 3 >> 3]! ^= 1 << ((bit * 3) & 7);
  return copy;
}

async function runDemo(keep: boolean): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), "hashfed-demo-"));
  const key = privateKeyFromSeed(MEMBER, generateSeed());
  const federationText = formatFederationFile({
    origin: "hashfed.example/demo",
    members: [{ name: MEMBER, key: key.verifierKey.text, address: "127.0.0.1:7401", role: "validator" }],
  });
  const federation = parseFederation(federationText);
  print(`1. A federation of one member, ${MEMBER}, in ${folder}`);
  print(`   federation id ${federation.id.toString("hex")}`);
  const options = { dataDir: join(folder, MEMBER), federation, key, memberAddress: "127.0.0.1:0", publicAddress: "127.0.0.1:0", log: () => {} };
  let node = await HashfedNode.start(options);
  try {
    let member = connectMember(`127.0.0.1:${node.memberPort}`);
    const pdq = randomBytes(32);
    const md5 = createHash("md5").update("attacker video, first upload").digest();
    const sha256 = createHash("sha256").update("attacker manifesto.pdf").digest();
    print("2. Moderators confirm three items; the node signs them and commits them to the log");
    const first = await call(member, member.client.submit, {
      submissions: [
        { kind: { $case: "add", value: { signalType: "pdq", value: pdq.toString("hex"), labels: ["graphic-violence"], quality: 92 } } },
        { kind: { $case: "add", value: { signalType: "md5", value: md5.toString("hex"), labels: ["content-incident-protocol"], quality: 0 } } },
        { kind: { $case: "add", value: { signalType: "sha256", value: sha256.toString("hex"), labels: ["attacker-manifesto"], quality: 0 } } },
      ],
    });
    for (const ack of first.acknowledgements) print(`   committed at log index ${ack.logIndex}: statement ${ack.statementId.toString("hex").slice(0, 16)}…`);
    const firstCheckpoint = verifyCosignedCheckpoint(federation, first.checkpoint);

    print("3. Uploads are matched in microseconds: a re-encoded copy (PDQ distance 9), the exact file, an unrelated image");
    const matches = await call(member, member.client.match, {
      queries: [
        { signalType: "pdq", value: nearDuplicate(pdq, 9).toString("hex") },
        { signalType: "md5", value: md5.toString("hex") },
        { signalType: "pdq", value: randomBytes(32).toString("hex") },
      ],
      includeProof: false,
    });
    for (const [i, result] of matches.results.entries()) {
      const found = result.matches.map((m) => `log index ${m.logIndex} (distance ${m.distance}, labels ${m.labels.join(",")})`);
      print(`   query ${i + 1}: ${found.length > 0 ? `match at ${found.join("; ")}` : "no match"}`);
    }

    print("4. The md5 entry was a mistake: the member retracts it, and it stops matching");
    await call(member, member.client.submit, {
      submissions: [{ kind: { $case: "retract", value: { target: first.acknowledgements[1]!.statementId, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }],
    });
    const after = await call(member, member.client.match, { queries: [{ signalType: "md5", value: md5.toString("hex") }], includeProof: false });
    print(`   md5 query now: ${after.results[0]!.matches.length === 0 ? "no match" : "still matches (unexpected)"}`);

    print("5. An auditor checks the log without seeing any hash: checkpoint, inclusion and consistency");
    const log = connectLog(`127.0.0.1:${node.publicPort}`);
    const latest = verifyCosignedCheckpoint(federation, (await call(log, log.client.getCheckpoint, {})).checkpoint);
    for (const line of latest.note.trimEnd().split("\n")) print(`   | ${line}`);
    print(`   cosigned by ${latest.signers.join(", ")}: a quorum of the federation's validators`);
    const inclusion = await call(log, log.client.getInclusionProof, { index: 0n, treeSize: latest.checkpoint.size });
    verifyInclusion(0n, latest.checkpoint.size, inclusion.leafHash, inclusion.proof, latest.checkpoint.root);
    const entries = await call(log, log.client.getEntries, { start: 0n, end: 1n });
    const leafOk = hashLeaf(LogEntry.encode(entries.entries[0]!).finish()).equals(inclusion.leafHash);
    print(`   entry 0 is included in the tree of size ${latest.checkpoint.size} (leaf served matches: ${leafOk})`);
    const consistency = await call(log, log.client.getConsistencyProof, { first: firstCheckpoint.checkpoint.size, second: latest.checkpoint.size });
    verifyConsistency(firstCheckpoint.checkpoint.size, latest.checkpoint.size, firstCheckpoint.checkpoint.root, latest.checkpoint.root, consistency.proof);
    print(`   the tree of size ${firstCheckpoint.checkpoint.size} is a prefix of the tree of size ${latest.checkpoint.size}: the log only grew`);

    print("6. The node restarts from its data folder and serves the same log");
    member.client.close();
    log.client.close();
    await node.stop();
    node = await HashfedNode.start(options);
    member = connectMember(`127.0.0.1:${node.memberPort}`);
    const status = await call(member, member.client.status, {});
    print(`   log size ${status.treeSize}, ${status.liveSignals} live signals, ${status.retractions} retraction; checkpoint unchanged: ${status.checkpoint === latest.note}`);
    member.client.close();
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
