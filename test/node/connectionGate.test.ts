/**
 * Goal: one network address cannot hold more than CONNECTIONS_PER_CLIENT_MAX connections to a
 * node's port, nor all addresses together more than CONNECTIONS_PER_PORT_MAX: connections opened
 * until the process ran out of file descriptors could leave LevelDB unable to open its files. A
 * connection beyond is closed at once and said in the node's log; others' connections, and the
 * address's own once it has closed some, go on working.
 * Method: ConnectionGate's counts alone; then a real node in this process and raw TCP sockets
 * from 127.0.0.1, 127.0.0.2 and 127.0.0.3, with a Log client beside them; last, the node stops
 * with raw sockets still open. Then two nodes linked: strangers at 32 addresses fill one's port,
 * and the address the other's node proved its key from still gets in; and a node whose port filled
 * before the other started lets in the address its own link proved the other's key at.
 */
import { connect, type Socket } from "node:net";
import { rm } from "node:fs/promises";
import { call, connectLog, connectMember, describeRpcError } from "../../src/client/rpc";
import { ConnectionGate, gateAddress } from "../../src/node/connectionGate";
import { CONNECTIONS_PER_CLIENT_MAX, CONNECTIONS_PER_PORT_MAX, HashfedNode } from "../../src/node/hashfedNode";
import { defaultDataDir, localFederation, type SoloSetup } from "../support/cluster";
import { waitFor } from "../support/federationNet";
import { type TestFederation, testFederation } from "../support/inProcessNode";
import { rpcRejection } from "../support/submissions";

test("the gate counts per client and in all, gives places back, and holds members' addresses to the per-client bound only", () => {
  const gate = new ConnectionGate(2, 3);
  gate.reserve("10.0.0.9");
  expect([gate.admit("10.0.0.1"), gate.admit("::ffff:10.0.0.1")]).toEqual([undefined, undefined]);
  expect(gate.admit("10.0.0.1")).toBe("10.0.0.1 has 2 connections to this port, the most one client may");
  expect(gate.admit("10.0.0.2")).toBeUndefined();
  expect(gate.admit("10.0.0.3")).toBe("the port holds 3 connections, its most");
  expect([gate.admit("10.0.0.9"), gate.admit("10.0.0.9")]).toEqual([undefined, undefined]);
  expect(gate.admit("10.0.0.9")).toBe("10.0.0.9 has 2 connections to this port, the most one client may");
  gate.release("::ffff:10.0.0.1");
  gate.release("10.0.0.9");
  gate.release("10.0.0.9");
  expect(gate.admit("10.0.0.3")).toBeUndefined();
  expect(gate.admit("10.0.0.4")).toBe("the port holds 3 connections, its most");
});

test("only IP addresses are reserved: gRPC's \"unknown\" (a proxy between, a socket closed) is no member's", () => {
  const gate = new ConnectionGate(2, 1);
  gate.reserve("unknown");
  gate.reserve("[::1]");
  expect(gate.admit("10.0.0.1")).toBeUndefined();
  expect(gate.admit("unknown")).toBe("the port holds 1 connections, its most");
  expect(gate.admit("::1")).toBeUndefined();
});

test("an IPv6 client is its /64: one host holds a whole /64", () => {
  expect(gateAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
  expect(gateAddress("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
  expect(gateAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(gateAddress("::1")).toBe("0:0:0:0::/64");
  expect(gateAddress("::ffff:192.0.2.7")).toBe("192.0.2.7");
  // As gRPC names an IPv6 peer, with a zone, and with an IPv4 tail (two groups).
  expect(gateAddress("[2001:db8:1:2::9]")).toBe("2001:db8:1:2::/64");
  expect(gateAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  expect(gateAddress("1:2::3:4:5:1.2.3.4")).toBe("1:2:0:3::/64");
  const gate = new ConnectionGate(1, 10);
  expect(gate.admit("2001:db8:1:2::a")).toBeUndefined();
  expect(gate.admit("2001:db8:1:2::b")).toBe("2001:db8:1:2::/64 has 1 connections to this port, the most one client may");
  expect(gate.admit("2001:db8:1:3::a")).toBeUndefined();
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

  let stopped = false;

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    if (!stopped) await node?.stop();
    await rm(setup.folder, { recursive: true, force: true });
  });

  /** A raw connection from `localAddress`; resolves once connected, with whether the node has closed it within `watchMs`. */
  async function open(localAddress: string, watchMs: number, port = node.publicPort): Promise<{ socket: Socket; closedByNode: boolean }> {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    sockets.push(socket);
    socket.on("error", () => {});
    // Read what the node sends (its HTTP/2 settings), or its end would wait behind them unseen.
    socket.resume();
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
    const held = await Promise.all(Array.from({ length: CONNECTIONS_PER_CLIENT_MAX }, () => open("127.0.0.1", 200)));
    expect(held.filter(({ closedByNode }) => closedByNode)).toEqual([]);
    expect((await open("127.0.0.1", 5_000)).closedByNode).toBe(true);
    expect(logged).toContainEqual(`refused a connection to 127.0.0.1:0 from 127.0.0.1: 127.0.0.1 has ${CONNECTIONS_PER_CLIENT_MAX} connections to this port, the most one client may`);

    const blocked = connectLog(`127.0.0.1:${node.publicPort}`);
    // The client is told what may have happened, not only that the node could not be reached.
    expect(describeRpcError(await rpcRejection(call(blocked, blocked.client.getFederation, {}, 5_000)))).toMatch(/^UNAVAILABLE: the node closed the connection as it opened: .* or hold as many connections from this address as it takes/);
    blocked.client.close();
    // Per address: a client at another address is served meanwhile.
    expect((await open("127.0.0.2", 200)).closedByNode).toBe(false);

    for (const { socket } of held.slice(0, 4)) socket.destroy();
    // Served once the node has seen those close (a fixed sleep had raced it on a busy machine).
    const answered = await waitFor(
      "a Log call from 127.0.0.1 to be served",
      async () => {
        const served = connectLog(`127.0.0.1:${node.publicPort}`);
        try {
          return await call(served, served.client.getFederation, {}, 1_000).catch(() => undefined);
        } finally {
          served.client.close();
        }
      },
      5_000,
    );
    expect(answered.federationId).toEqual(setup.federation.id);
  });

  test("the Member port takes more than that from one address: a member's systems are often many behind one", async () => {
    const held = await Promise.all(Array.from({ length: CONNECTIONS_PER_CLIENT_MAX + 8 }, () => open("127.0.0.4", 200, node.memberPort)));
    expect(held.filter(({ closedByNode }) => closedByNode)).toEqual([]);
    for (const { socket } of held) socket.destroy();
  });

  // Once a bug: a connection whose client never closed its side (a raw socket, a TLS handshake never
  // finished) kept the node's stop waiting for good.
  test("stop() ends connections whose clients never close them", async () => {
    const idle = await open("127.0.0.3", 100);
    expect(idle.closedByNode).toBe(false);
    // A client that reads nothing more: the node's goodbye waits unread, and the client never closes.
    idle.socket.pause();
    // It had never resolved: the test's timeout is the assertion.
    await node.stop();
    stopped = true;
    const closed = new Promise<void>((resolve) => idle.socket.once("close", () => resolve()));
    idle.socket.resume();
    await closed;
    expect(sockets.filter((socket) => !socket.destroyed)).toEqual([]);
  }, 20_000);
});

describe("when a port is full", () => {
  let members: SoloSetup[];
  let logged: string[];
  let nodes: HashfedNode[];
  let sockets: Socket[];

  beforeEach(async () => {
    // b listens at 127.0.0.2 and dials from 127.0.0.1: its link to a and a's link to b prove its key at two addresses.
    members = await localFederation(["a.example", "b.example"], {}, undefined, { "b.example": "127.0.0.2" });
    [logged, nodes, sockets] = [[], [], []];
  });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(nodes.map((node) => node.stop()));
    await rm(members[0]!.folder, { recursive: true, force: true });
  });

  const start = async (member: SoloSetup): Promise<HashfedNode> => {
    const node = await HashfedNode.start({ dataDir: defaultDataDir(member), federation: member.federation, key: member.key, memberAddress: member.memberAddress, publicAddress: member.publicAddress, log: (line) => logged.push(line) });
    nodes.push(node);
    return node;
  };

  const rawConnection = (node: HashfedNode, localAddress: string): Socket => {
    const socket = connect({ host: "127.0.0.1", port: node.publicPort, localAddress });
    sockets.push(socket);
    socket.on("error", () => {});
    return socket;
  };

  /** A raw connection to the node's public port from `localAddress`: whether the node closed it within `watchMs`. */
  const closedBy = async (node: HashfedNode, localAddress: string, watchMs = 300): Promise<boolean> => {
    const socket = rawConnection(node, localAddress);
    socket.resume();
    const closed = new Promise<boolean>((resolve) => socket.once("close", () => resolve(true)));
    await Promise.race([new Promise((resolve) => socket.once("connect", resolve)), closed]);
    return Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), watchMs))]);
  };

  /**
   * Strangers at 32 addresses fill the node's port, an address at a time (all at once overflow the
   * listen backlog), each connection once the node has taken it (its HTTP/2 settings arrived) or
   * closed it: a client's connect only means the kernel finished the handshake, and under load the
   * node's accept queue overflowed and a later connection was taken before one of these.
   */
  const fillPort = async (node: HashfedNode): Promise<void> => {
    for (let i = 1; i <= CONNECTIONS_PER_PORT_MAX / CONNECTIONS_PER_CLIENT_MAX; i++) {
      await Promise.all(
        Array.from({ length: CONNECTIONS_PER_CLIENT_MAX }, async () => {
          const socket = rawConnection(node, `127.0.1.${i}`);
          await new Promise((resolve) => {
            socket.once("data", resolve);
            socket.once("close", resolve);
          });
          socket.resume();
        }),
      );
    }
    expect(await closedBy(node, "127.0.2.1")).toBe(true);
    expect(logged).toContainEqual(`refused a connection to ${members[0]!.publicAddress} from 127.0.2.1: the port holds ${CONNECTIONS_PER_PORT_MAX} connections, its most`);
  };

  test("a member's node gets in from the address it proved its key from; a stranger does not", async () => {
    const [a] = [await start(members[0]!), await start(members[1]!)];
    // b's node links to a's from 127.0.0.1, proving b's key there: a keeps places for that address.
    // (a's own link reaches b at 127.0.0.2, which keeps no place for 127.0.0.1.)
    const status = connectMember(members[1]!.memberAddress);
    await waitFor("b's link to a", async () => ((await call(status, status.client.status, {})).peersConnected.includes("a.example") ? true : undefined), 10_000);
    status.client.close();
    await fillPort(a!);
    expect(await closedBy(a!, "127.0.0.1")).toBe(false);
  }, 30_000);

  // Once a gap: a node started with strangers filling its port refused a member's node until it
  // had got in once, though this node's own link to the member had proved its key at that address.
  test("a node whose port filled before a member came up lets it in from where its own link reached the member", async () => {
    const a = await start(members[0]!);
    await fillPort(a);
    await start(members[1]!);
    await waitFor("a's link to b", async () => (logged.includes("peer b.example: connected") ? true : undefined), 10_000);
    expect(await closedBy(a, "127.0.0.2")).toBe(false);
    // b dials from 127.0.0.1, where it proved nothing: a member behind another address is not helped.
    expect(await closedBy(a, "127.0.0.1")).toBe(true);
  }, 30_000);
});
