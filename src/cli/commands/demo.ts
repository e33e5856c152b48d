import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "../../audit";
import { call, type Connection, connectLog, connectMember } from "../../client/rpc";
import { generateSeed, type PrivateKey, privateKeyFromSeed } from "../../crypto";
import { type Federation, formatFederationFile, parseFederation } from "../../federation";
import type { LogClient } from "../../gen/hashfed/v1/log";
import type { MemberClient, Submission } from "../../gen/hashfed/v1/member";
import { LogEntry, RetractReason } from "../../gen/hashfed/v1/statement";
import { hashLeaf, verifyConsistency, verifyInclusion } from "../../log";
import { HashfedNode } from "../../node/hashfedNode";
import { freeLoopbackPort } from "../loopbackPort";
import { print } from "../output";

const MEMBERS = ["forum.example", "photoshare.example", "streaming.example", "videohost.example"];

interface DemoMember {
  readonly name: string;
  readonly key: PrivateKey;
  readonly publicAddress: string;
  node: HashfedNode | undefined;
}

/** How long one step of the demo may wait for a node; on loopback each takes well under a second. */
const DEMO_STEP_TIMEOUT_MS = 30_000;

/** A PDQ hash at exactly `distance` bits from `hash`: a re-encoded or lightly edited copy. */
function nearDuplicate(hash: Buffer, distance: number): Buffer {
  const copy = Buffer.from(hash);
  for (let bit = 0; bit < distance; bit++) copy[(bit * 3) >> 3]! ^= 1 << ((bit * 3) & 7);
  return copy;
}

const add = (signalType: string, value: Buffer, label: string, quality = 0): Submission => ({
  kind: { $case: "add", value: { signalType, value: value.toString("hex"), labels: [label], quality } },
});

class Demo {
  private readonly connections: Connection<MemberClient | LogClient>[] = [];

  constructor(
    readonly folder: string,
    readonly federation: Federation,
    readonly members: DemoMember[],
  ) {}

  async start(member: DemoMember): Promise<void> {
    member.node = await HashfedNode.start({
      dataDir: join(this.folder, member.name),
      federation: this.federation,
      key: member.key,
      memberAddress: "127.0.0.1:0",
      publicAddress: member.publicAddress,
      log: () => {},
    });
  }

  async stop(member: DemoMember): Promise<void> {
    await member.node?.stop();
    member.node = undefined;
  }

  member(member: DemoMember): Connection<MemberClient> {
    const connection = connectMember(`127.0.0.1:${member.node!.memberPort}`);
    this.connections.push(connection);
    return connection;
  }

  log(member: DemoMember): Connection<LogClient> {
    const connection = connectLog(member.publicAddress);
    this.connections.push(connection);
    return connection;
  }

  closeConnections(): void {
    for (const connection of this.connections.splice(0)) connection.client.close();
  }

  /** Waits until `member` has committed at least `size` entries; a demo that stalls says so instead of hanging. */
  async reaches(member: DemoMember, size: bigint): Promise<void> {
    await this.until(member, () => member.node!.ledger.treeSize >= size, () => `reach log size ${size} (it holds ${member.node!.ledger.treeSize})`);
  }

  /** Waits until `member`'s validator has finished listening after its start and takes part in consensus. */
  async validates(member: DemoMember): Promise<void> {
    await this.until(member, () => member.node!.replica.participation === "validating", () => "join consensus");
  }

  private async until(member: DemoMember, done: () => boolean, what: () => string): Promise<void> {
    const deadline = Date.now() + DEMO_STEP_TIMEOUT_MS;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${member.name} did not ${what()} within ${DEMO_STEP_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function createDemo(): Promise<Demo> {
  const folder = await mkdtemp(join(tmpdir(), "hashfed-demo-"));
  const members: DemoMember[] = [];
  for (const name of MEMBERS) members.push({ name, key: privateKeyFromSeed(name, generateSeed()), publicAddress: `127.0.0.1:${await freeLoopbackPort()}`, node: undefined });
  const federation = parseFederation(
    formatFederationFile({
      origin: "hashfed.example/demo",
      members: members.map((member) => ({ name: member.name, key: member.key.verifierKey.text, address: member.publicAddress, role: "validator" as const })),
      parameters: { timeoutProposeMs: 500, timeoutPrevoteMs: 300, timeoutPrecommitMs: 300, timeoutDeltaMs: 200 },
    }),
  );
  print(`1. A federation of four platforms, each running a node on loopback, storage in ${folder}`);
  print(`   federation ${federation.id.toString("hex").slice(0, 16)}…: ${MEMBERS.join(", ")}; a quorum is 3 of 4`);
  const demo = new Demo(folder, federation, members);
  const started = process.hrtime.bigint();
  for (const member of members) await demo.start(member);
  // A validator signs nothing until its peers have told it what it signed before (see Replica.listen):
  // statements submitted earlier wait for that, which is start-up time, not the time consensus takes.
  for (const member of members) await demo.validates(member);
  print(`   all four nodes serving and taking part in consensus ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms after the first started`);
  return demo;
}

/** Submits at one member, then waits until the items are matchable at every other member. */
async function shareItems(demo: Demo): Promise<{ md5: Buffer; md5Statement: Buffer; first: VerifiedCheckpoint }> {
  const [forum, photoshare, streaming, videohost] = demo.members as [DemoMember, DemoMember, DemoMember, DemoMember];
  const pdq = randomBytes(32);
  const md5 = createHash("md5").update("attacker video, first upload").digest();
  const sha256 = createHash("sha256").update("attacker manifesto.pdf").digest();
  print(`2. Moderators at ${videohost.name} confirm a video frame (PDQ), the video file (MD5) and a manifesto (SHA-256)`);
  const started = process.hrtime.bigint();
  const at = demo.member(videohost);
  const response = await call(at, at.client.submit, {
    submissions: [add("pdq", pdq, "graphic-violence", 92), add("md5", md5, "content-incident-protocol"), add("sha256", sha256, "attacker-manifesto")],
  });
  const first = verifyCosignedCheckpoint(demo.federation, response.checkpoint);
  const ackMs = Number(process.hrtime.bigint() - started) / 1e6;
  print(`   committed by consensus at log indexes ${response.acknowledgements.map((ack) => ack.logIndex).join(", ")} in ${ackMs.toFixed(0)} ms, checkpoint cosigned by ${first.signers.length} of 4`);
  print("3. Minutes matter: a re-upload of an edited copy (PDQ distance 12) is caught at every other platform");
  for (const member of [forum, photoshare, streaming]) {
    const other = demo.member(member);
    await demo.reaches(member, first.checkpoint.size);
    const matched = await call(other, other.client.match, { queries: [{ signalType: "pdq", value: nearDuplicate(pdq, 12).toString("hex") }], includeProof: false });
    const match = matched.results[0]!.matches[0];
    const sinceMs = Number(process.hrtime.bigint() - started) / 1e6;
    print(`   ${member.name.padEnd(19)} ${match === undefined ? "no match" : `match: distance ${match.distance}, shared by ${match.submitter}, labels ${match.labels.join(",")}`} (${sinceMs.toFixed(0)} ms after the submit)`);
  }
  return { md5, md5Statement: response.acknowledgements[1]!.statementId, first };
}

/** One node goes down; the others keep committing; it comes back and catches up. */
async function survivesACrash(demo: Demo, md5: Buffer, md5Statement: Buffer): Promise<void> {
  const [forum, photoshare, streaming, videohost] = demo.members as [DemoMember, DemoMember, DemoMember, DemoMember];
  print(`4. ${streaming.name}'s node goes down; the other three keep committing`);
  await demo.stop(streaming);
  const at = demo.member(forum);
  const more = await call(at, at.client.submit, { submissions: [add("sha256", randomBytes(32), "recruitment")] });
  const checkpoint = verifyCosignedCheckpoint(demo.federation, more.checkpoint);
  print(`   ${forum.name} added an entry at index ${more.acknowledgements[0]!.logIndex}; checkpoint cosigned by ${checkpoint.signers.join(", ")}`);
  const owner = demo.member(videohost);
  const retraction = await call(owner, owner.client.submit, {
    submissions: [{ kind: { $case: "retract", value: { target: md5Statement, reason: RetractReason.RETRACT_REASON_FALSE_POSITIVE } } }],
  });
  print(`   ${videohost.name} retracts its MD5 entry (a false positive); the MD5 now matches at:`);
  for (const member of [forum, photoshare, videohost]) {
    await demo.reaches(member, retraction.acknowledgements[0]!.logIndex + 1n);
    const client = demo.member(member);
    const matched = await call(client, client.client.match, { queries: [{ signalType: "md5", value: md5.toString("hex") }], includeProof: false });
    print(`   ${member.name.padEnd(19)} ${matched.results[0]!.matches.length === 0 ? "no match" : "still a match"}`);
  }
  print(`5. ${streaming.name}'s node restarts and catches up from its peers`);
  await demo.start(streaming);
  const size = videohost.node!.ledger.treeSize;
  await demo.reaches(streaming, size);
  const same = streaming.node!.ledger.head.range.root().equals(videohost.node!.ledger.head.range.root());
  print(`   it holds ${streaming.node!.ledger.treeSize} entries, root equal to ${videohost.name}'s: ${same}`);
}

/** What an auditor checks, with the federation file and one node's Log service only. */
async function audit(demo: Demo, first: VerifiedCheckpoint): Promise<void> {
  print("6. An auditor verifies the log without seeing a single hash");
  const log = demo.log(demo.members[1]!);
  const latest = verifyCosignedCheckpoint(demo.federation, (await call(log, log.client.getCheckpoint, {})).checkpoint);
  for (const line of latest.note.trimEnd().split("\n")) print(`   | ${line}`);
  print(`   cosigned by ${latest.signers.length} validators (${latest.signers.join(", ")}); a quorum is 3`);
  const { size, root } = latest.checkpoint;
  const inclusion = await call(log, log.client.getInclusionProof, { index: 0n, treeSize: size });
  verifyInclusion(0n, size, inclusion.leafHash, inclusion.proof, root);
  const entries = await call(log, log.client.getEntries, { start: 0n, end: 1n });
  const leafOk = hashLeaf(LogEntry.encode(entries.entries[0]!).finish()).equals(inclusion.leafHash);
  print(`   entry 0 is included in the tree of size ${size} (the leaf served matches: ${leafOk})`);
  const consistency = await call(log, log.client.getConsistencyProof, { first: first.checkpoint.size, second: size });
  verifyConsistency(first.checkpoint.size, size, first.checkpoint.root, root, consistency.proof);
  print(`   the tree of size ${first.checkpoint.size} is a prefix of the tree of size ${size}: the log only grew`);
}

async function runDemo(keep: boolean): Promise<void> {
  const demo = await createDemo();
  try {
    const { md5, md5Statement, first } = await shareItems(demo);
    await survivesACrash(demo, md5, md5Statement);
    await audit(demo, first);
    print("Done.");
  } finally {
    demo.closeConnections();
    for (const member of demo.members) await demo.stop(member);
    if (!keep) await rm(demo.folder, { recursive: true, force: true });
  }
}

export function addDemoCommand(program: Command): void {
  program
    .command("demo")
    .description("run a local federation of four nodes with embedded storage in a temporary folder")
    .option("--keep", "keep the temporary folder")
    .action((options: { keep?: boolean }) => runDemo(options.keep === true));
}
