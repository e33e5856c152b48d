/**
 * Goal: someone on the path between two members' nodes (a router, or a relay that a spoofed DNS
 * answer put there) learns no hash from their traffic. Reveals travel between members' nodes; the
 * links are encrypted under keys only the two ends can derive, so a relay that passes the
 * handshake on (which it can: the handshake binds names and nonces, not addresses) carries the
 * link but cannot read it. Before, such a relay saw every value submitted.
 * Method: two validators as real `hashfed node` processes, each listening elsewhere than its
 * address in the federation file, where a TCP relay copies every byte both ways to the real port.
 * A value is submitted at A and committed at both nodes (its reveal went to B through a relay);
 * the bytes the relays carried must not contain it, nor its salt.
 */
import { createHash, randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { freeLoopbackPort } from "../../src/cli/loopbackPort";
import { localFederation, type NodeProcess, type SoloSetup, startNodeProcess } from "../support/cluster";
import { NodeClients, unary, waitFor } from "../support/federationNet";
import { addSubmission } from "../support/submissions";

let members: SoloSetup[];
let processes: NodeProcess[] = [];
let nodes: NodeClients[] = [];
const relays: Server[] = [];
const sockets = new Set<Socket>();
/** Every byte the relays carried, one buffer per socket (a value split across chunks is still found). */
const carried = new Map<Socket, Buffer[]>();

/** A TCP relay at `listen` (host:port) to `target`'s port on loopback, keeping a copy of what passes. */
async function tcpRelay(listen: string, target: string): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = createConnection(Number(target.split(":")[1]), "127.0.0.1");
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(from);
      carried.set(from, []);
      from.on("data", (chunk: Buffer) => {
        carried.get(from)!.push(chunk);
        to.write(chunk);
      });
      from.on("error", () => to.destroy());
      from.on("close", () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(Number(listen.split(":")[1]), "127.0.0.1", resolve));
  return server;
}

beforeAll(async () => {
  members = await localFederation(["a.example", "b.example"]);
  const listens = await Promise.all(members.map(async () => `127.0.0.1:${await freeLoopbackPort()}`));
  for (const [i, member] of members.entries()) relays.push(await tcpRelay(member.publicAddress, listens[i]!));
  processes = await Promise.all(members.map((member, i) => startNodeProcess(member, { listen: listens[i] })));
  nodes = members.map((member, i) => new NodeClients(member, listens[i]));
}, 30_000);

afterAll(async () => {
  for (const node of nodes) node.close();
  await Promise.all(processes.map((node) => node.kill("SIGTERM")));
  for (const socket of sockets) socket.destroy();
  for (const relay of relays) relay.close();
  if (members !== undefined) await rm(members[0]!.folder, { recursive: true, force: true });
});

test("a relay between two members' nodes carries their links but sees neither a submitted value nor its salt", async () => {
  const value = createHash("md5").update(randomBytes(16)).digest();
  const response = await unary(nodes[0]!.member, nodes[0]!.member.submit, { submissions: [addSubmission("md5", value.toString("hex"))] }, 20_000);
  const id = response.acknowledgements[0]!.statementId;
  // Committed at B: the statement and its reveal reached B over a link through a relay.
  const atB = await waitFor("the statement to be committed at B", async () => {
    const entry = await unary(nodes[1]!.member, nodes[1]!.member.getEntry, { key: { $case: "statementId", value: id } }).catch(() => undefined);
    return entry?.reveal !== undefined ? entry : undefined;
  }, 15_000);
  expect(Buffer.from(atB.reveal!.value)).toEqual(value);
  const streams = [...carried.values()].map((chunks) => Buffer.concat(chunks));
  // The sanity check that the relays carried the links' messages, not only handshakes (a few hundred bytes each).
  expect(streams.reduce((sum, bytes) => sum + bytes.length, 0)).toBeGreaterThan(2_000);
  for (const secret of [value, Buffer.from(atB.reveal!.salt), Buffer.from(value.toString("hex"))]) {
    expect(streams.some((bytes) => bytes.includes(secret))).toBe(false);
  }
}, 60_000);
