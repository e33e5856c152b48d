/**
 * Goal: one network address cannot hold more than CONNECTIONS_PER_ADDRESS_MAX connections to a
 * node's port, nor all addresses together more than CONNECTIONS_PER_PORT_MAX: connections opened
 * until the process ran out of file descriptors could leave LevelDB unable to open its files. A
 * connection beyond is closed at once and said in the node's log; others' connections, and the
 * address's own once it has closed some, go on working.
 * Method: ConnectionGate's counts alone; then a real node in this process and raw TCP sockets
 * from 127.0.0.1 and 127.0.0.2, with a Log client beside them.
 */
import { connect, type Socket } from "node:net";
import { rm } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { call, connectLog } from "../../src/client/rpc";
import { ConnectionGate } from "../../src/node/connectionGate";
import { CONNECTIONS_PER_ADDRESS_MAX, HashfedNode } from "../../src/node/hashfedNode";
import { type TestFederation, testFederation } from "../support/inProcessNode";
import { rpcRejection } from "../support/submissions";

test("the gate counts per address and in all, and gives places back", () => {
  const gate = new ConnectionGate(2, 3);
  expect([gate.admit("a"), gate.admit("a")]).toEqual([undefined, undefined]);
  expect(gate.admit("a")).toBe("a has 2 connections to this port, the most one address may");
  expect(gate.admit("b")).toBeUndefined();
  expect(gate.admit("c")).toBe("the port holds 3 connections, its most");
  gate.release("a");
  expect(gate.admit("c")).toBeUndefined();
  expect(gate.admit("a")).toBe("the port holds 3 connections, its most");
});

describe("a node's public port", () => {
  let setup: TestFederation;
  let node: HashfedNode;
  const logged: string[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    setup = await testFederation();
    node = await HashfedNode.start({ dataDir: `${setup.folder}/data`, federation: setup.federation, key: setup.key, memberAddress: "127.0.0.1:0", publicAddress: "127.0.0.1:0", log: (line) => logged.push(line) });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await node?.stop();
    await rm(setup.folder, { recursive: true, force: true });
  });

  /** A raw connection from `localAddress`; resolves once connected, with whether the node has closed it within `watchMs`. */
  async function open(localAddress: string, watchMs: number): Promise<{ socket: Socket; closedByNode: boolean }> {
    const socket = connect({ host: "127.0.0.1", port: node.publicPort, localAddress });
    sockets.push(socket);
    socket.on("error", () => {});
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const closedByNode = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), watchMs);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    return { socket, closedByNode };
  }

  test("an address at its most has its next connection closed at once; another address and, once it closes some, the first are served", async () => {
    const held = await Promise.all(Array.from({ length: CONNECTIONS_PER_ADDRESS_MAX }, () => open("127.0.0.1", 200)));
    expect(held.filter(({ closedByNode }) => closedByNode)).toEqual([]);
    expect((await open("127.0.0.1", 5_000)).closedByNode).toBe(true);
    expect(logged).toContainEqual(`refused a connection from 127.0.0.1: 127.0.0.1 has ${CONNECTIONS_PER_ADDRESS_MAX} connections to this port, the most one address may`);

    const blocked = connectLog(`127.0.0.1:${node.publicPort}`);
    expect(status[(await rpcRejection(call(blocked, blocked.client.getFederation, {}, 5_000))).code]).toBe("UNAVAILABLE");
    blocked.client.close();
    // Per address: a client at another address is served meanwhile.
    expect((await open("127.0.0.2", 200)).closedByNode).toBe(false);

    for (const { socket } of held.slice(0, 4)) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const served = connectLog(`127.0.0.1:${node.publicPort}`);
    expect((await call(served, served.client.getFederation, {}, 5_000)).federationId).toEqual(setup.federation.id);
    served.client.close();
  });
});
