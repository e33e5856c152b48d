/**
 * Goal: a validator started from an old copy of its data folder does not double-sign (the design's
 * "a node restored from an old disk copy must refuse to sign, not equivocate"), and the federation
 * keeps committing with it.
 * Method: four `hashfed node` processes on loopback under load. The load pauses at a height whose
 * round 0 is C's to propose; validator C is stopped cleanly (SIGTERM), its data folder copied, and C
 * restarted on the original; with load again, after C has taken part in 17 more heights it is
 * killed with SIGKILL and started from the OLD copy, then runs under load until it has caught up
 * and the federation has committed 10 more heights with it. Two views of double-signing:
 *   - what the nodes report: Log.GetEvidence at every node, each piece checked with
 *     verifyEvidence, must name no one (C included);
 *   - what C actually signed: the Peer services of C and of D each sit behind a pass-through relay
 *     (test/support/peerRelay.ts) that opens (with the keys the nodes write to their key log) and
 *     decodes every PeerMessage on the streams opened to them, both ways. C sends to D on the stream D opened to C when it is up (through C's relay), else
 *     on its own stream to D (through D's relay), so the test sees every vote and proposal C sent D
 *     in both of its lives (and C's precommits inside certificates). No two of them may be for the same (height, round, kind) with different
 *     contents, whether or not a node noticed.
 */
import { cp, rm } from "node:fs/promises";
import { join } from "node:path";
import { duplicateProposal, duplicateVote, proposerOf, verifyEvidence, verifySignedProposal, verifySignedVote } from "../../src/consensus";
import type { SignedProposal, SignedVote } from "../../src/gen/hashfed/v1/batch";
import { VoteType } from "../../src/gen/hashfed/v1/batch";
import type { PeerMessage } from "../../src/gen/hashfed/v1/peer";
import { freeLoopbackPort } from "../../src/cli/loopbackPort";
import { defaultDataDir, localFederation, type NodeProcess, SHORT_TIMEOUTS, type SoloSetup, startNodeProcess } from "../support/cluster";
import {
  type Acknowledged,
  allEvidence,
  describeNodes,
  expectIdenticalLogs,
  Load,
  maxSize,
  NodeClients,
  unary,
  waitFor,
  waitForAgreement,
  waitForSize,
} from "../support/federationNet";
import { addSubmission, randomHex32 } from "../support/submissions";
import { PeerRelay } from "../support/peerRelay";

const [A, B, C, D] = [0, 1, 2, 3];
const STALE = "c.example";

let members: SoloSetup[];
const processes = new Map<string, NodeProcess>();
let nodes: NodeClients[] = [];
let relays: PeerRelay[] = [];
/** Where C's own Log and Peer services listen: its relay holds C's address in the federation file. */
let cListen: string;
/** The key log all four nodes write (HASHFED_PEER_KEY_LOG), from which the relays open the links. */
let keyLog: string;

/** Every distinct message C signed, by slot "height/round/kind", as seen on the way to D. */
const signedByC = new Map<string, Map<string, { vote?: SignedVote; proposal?: SignedProposal }>>();
/** Heights at which C's signatures were seen, for the sanity check that the wiretap saw both lives. */
const heightsSeen: bigint[] = [];

function recordVote(signed: SignedVote): void {
  const { vote } = verifySignedVote(members[0]!.federation, signed);
  if (vote.validator !== STALE) return;
  const kind = vote.type === VoteType.VOTE_TYPE_PREVOTE ? "prevote" : "precommit";
  record(`${vote.height}/${vote.round}/${kind}`, Buffer.concat([signed.vote, signed.signature]).toString("hex"), { vote: signed });
  heightsSeen.push(vote.height);
}

function recordProposal(signed: SignedProposal): void {
  const { proposal } = verifySignedProposal(members[0]!.federation, signed);
  if (proposal.proposer !== STALE) return;
  record(`${proposal.height}/${proposal.round}/proposal`, Buffer.concat([signed.proposal, signed.signature]).toString("hex"), { proposal: signed });
  heightsSeen.push(proposal.height);
}

function record(slot: string, key: string, message: { vote?: SignedVote; proposal?: SignedProposal }): void {
  const messages = signedByC.get(slot) ?? new Map();
  messages.set(key, message);
  signedByC.set(slot, messages);
}

/** Keeps C's signed votes and proposals from every message a member sends D. Unverifiable ones are ignored. */
function wiretap(message: PeerMessage): void {
  try {
    const kind = message.kind;
    if (kind?.$case === "vote") recordVote(kind.value);
    if (kind?.$case === "proposal" && kind.value.proposal !== undefined) recordProposal(kind.value.proposal);
    if (kind?.$case === "syncResponse") for (const synced of kind.value.batches) for (const precommit of synced.certificate?.precommits ?? []) recordVote(precommit);
  } catch {
    // A message that does not verify proves nothing about C.
  }
}

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example", "c.example", "d.example"], SHORT_TIMEOUTS);
  cListen = `127.0.0.1:${await freeLoopbackPort()}`;
  const dListen = `127.0.0.1:${await freeLoopbackPort()}`;
  // The links are encrypted: the nodes write their keys where the relays read them.
  keyLog = join(members[0]!.folder, "peer-keys.log");
  relays = [await PeerRelay.start(members[C]!.publicAddress, cListen, keyLog, wiretap), await PeerRelay.start(members[D]!.publicAddress, dListen, keyLog, wiretap)];
  const listenAt = (i: number): string | undefined => (i === C ? cListen : i === D ? dListen : undefined);
  const started = await Promise.all(members.map((member, i) => startNodeProcess(member, { listen: listenAt(i), env: { HASHFED_PEER_KEY_LOG: keyLog } })));
  members.forEach((member, i) => processes.set(member.key.name, started[i]!));
  nodes = members.map((member, i) => new NodeClients(member, listenAt(i) ?? member.publicAddress));
}, 30_000);

afterAll(async () => {
  for (const node of nodes) node.close();
  await Promise.all([...processes.values()].map((node) => node.kill("SIGTERM")));
  for (const relay of relays) relay.close();
  if (members !== undefined) await rm(members[0]!.folder, { recursive: true, force: true });
});

async function height(node: NodeClients): Promise<bigint> {
  return (await node.status()).height;
}

/** Waits until every node's committed height is at least `target`. */
function waitForHeight(target: bigint, what: string): Promise<true> {
  return waitFor(what, async () => ((await Promise.all(nodes.map(height))).every((h) => h >= target) ? true : undefined), 30_000, () => describeNodes(nodes));
}

let killedAtHeight = 0n;
let copiedAtHeight = 0n;
let load: Load | undefined;

test("restarted from an old copy of its data folder, a validator is named in no evidence, catches up, and the federation keeps committing", async () => {
  const c = nodes[C]!;
  const federation = members[0]!.federation;
  const validators = federation.validators.map((member) => member.name);
  const original = defaultDataDir(members[C]!);
  const oldCopy = join(members[C]!.folder, "c-old-copy");
  const acknowledged: Acknowledged[] = [];
  try {
    load = new Load(nodes);
    await waitForSize(nodes, 30n, 20_000, "the federation to commit 30 statements under load");
    await load.stop();
    acknowledged.push(...load.acknowledged);

    // Quiet (a height with nothing to commit waits), then one statement per height until C proposes
    // first at the next height: the copy is then of a disk that has signed nothing at a height where
    // C, live, is sure to sign (round 0 is C's to propose). Without this the test is a 1-in-4 draw.
    copiedAtHeight = await waitFor("the four nodes to agree once the load stops", async () => {
      await waitForAgreement(nodes, 10_000);
      const heights = await Promise.all(nodes.map(height));
      return heights.every((h) => h === heights[0]) ? heights[0] : undefined;
    }, 10_000);
    while (proposerOf(validators, copiedAtHeight + 1n, 0) !== STALE) {
      const a = nodes[A]!;
      await unary(a.member, a.member.submit, { submissions: [addSubmission("pdq", randomHex32())] }, 20_000);
      copiedAtHeight = await waitFor("the four nodes to commit the height", async () => {
        const heights = await Promise.all(nodes.map(height));
        return heights.every((h) => h === heights[0]) && heights[0]! > copiedAtHeight ? heights[0] : undefined;
      }, 10_000);
    }

    // A clean stop, a copy of the folder, and the same folder again.
    expect(await processes.get(STALE)!.kill("SIGTERM")).toBe(0);
    await cp(original, oldCopy, { recursive: true });
    processes.set(STALE, await startNodeProcess(members[C]!, { dataDir: original, listen: cListen, env: { HASHFED_PEER_KEY_LOG: keyLog } }));
    // C listens after its start and signs nothing until its peers have answered: the load waits
    // for it, so that C is live at the next height and signs there what the old copy lacks.
    await waitFor("C to join consensus after its restart", async () => ((await c.status()).participation === "validating" ? true : undefined), 10_000);
    load = new Load(nodes);
    await waitForHeight(copiedAtHeight + 17n, `every node, C included, to commit 17 heights past the copy (height ${copiedAtHeight})`);

    // C dies and comes back with the disk it had 17+ heights ago.
    killedAtHeight = await height(c);
    await processes.get(STALE)!.kill("SIGKILL");
    processes.set(STALE, await startNodeProcess(members[C]!, { dataDir: oldCopy, listen: cListen, env: { HASHFED_PEER_KEY_LOG: keyLog } }));
    const others = [nodes[A]!, nodes[B]!, nodes[D]!];
    const atRestart = await maxSize(others);
    await waitForSize([c], atRestart, 20_000, `C, restarted from the old copy, to catch up to size ${atRestart}`);
    const caughtUp = await height(nodes[A]!);
    await waitForHeight(caughtUp + 10n, `every node, C included, to commit 10 more heights after C caught up (past ${caughtUp})`);
  } finally {
    await load?.stop();
    acknowledged.push(...(load?.acknowledged ?? []));
  }

  const accused: string[] = [];
  for (const node of nodes) {
    for (const piece of await allEvidence(node.log)) accused.push(`${verifyEvidence(members[0]!.federation, piece).validator} (reported by ${node.name})`);
  }
  expect(accused.filter((entry) => entry.startsWith(`${STALE} `))).toEqual([]);
  expect(accused).toEqual([]);
  await expectIdenticalLogs(nodes, acknowledged);
  // The wiretap saw C sign in both lives: at the height after the copy, and after the restart from it.
  expect(heightsSeen.some((h) => h === copiedAtHeight + 1n)).toBe(true);
  expect(heightsSeen.some((h) => h > killedAtHeight + 1n)).toBe(true);
}, 60_000);

/*
 * Nodes drop messages for heights below their own before a vote keeper could see a conflict, so
 * evidence alone would not show a restored validator equivocating at heights long decided: the
 * wiretap does.
 */
test("C never signed two different messages for one (height, round, kind), in either life", () => {
  const equivocations: string[] = [];
  for (const [slot, messages] of signedByC) {
    const list = [...messages.values()];
    for (let i = 1; i < list.length; i++) {
      const [first, second] = [list[0]!, list[i]!];
      const evidence = first.vote !== undefined ? duplicateVote(first.vote, second.vote!) : duplicateProposal(first.proposal!, second.proposal!);
      try {
        const proved = verifyEvidence(members[0]!.federation, evidence);
        equivocations.push(`${proved.validator} at ${slot}`);
      } catch {
        // Two encodings of the same vote: not a conflict.
      }
    }
  }
  expect(equivocations).toEqual([]);
});
