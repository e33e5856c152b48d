/**
 * Goal: a member runs its node's Member service off loopback, as it must to serve its own systems
 * on other machines, and only over TLS with a token (and, for its scanners, a match-only token): `hashfed node --member-tls-cert/--member-tls-key`
 * serves it, the CLI reaches it with `--tls-ca`, and every way of getting it wrong is refused with a
 * message that says what to do (a node off loopback without TLS, a key others can read, a key of
 * another certificate, a client sending its token in the clear, a client that does not trust the
 * node's certificate, a client without TLS).
 * Method: one real `hashfed node` process listening on 0.0.0.0 with certificates made for the run
 * (test/support/testCertificates.ts); every step runs the compiled CLI as a process.
 */
import { execFileSync } from "node:child_process";
import { chmod, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { freeLoopbackPort } from "../../src/cli/loopbackPort";
import { type CliProcess, type CliResult, runCli, spawnCli } from "../support/cli";
import { defaultDataDir, type SoloSetup, soloFederation } from "../support/cluster";
import { makeTestCertificates } from "../support/testCertificates";

let setup: SoloSetup;
let node: CliProcess;
let address: string;

const file = (name: string): string => join(setup.folder, name);
const nodeArgs = (...more: string[]): string[] => ["node", "--key", setup.keyFile, "--federation", setup.federationFile, "--data", defaultDataDir(setup), ...more];

function expectRefused(result: CliResult, reason: string): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: "" });
  expect(result.stderr).toContain(reason);
}

beforeAll(async () => {
  setup = await soloFederation();
  const certificates = makeTestCertificates();
  await writeFile(file("ca.pem"), certificates.caPem);
  await writeFile(file("other-ca.pem"), makeTestCertificates({ caName: "another CA" }).caPem);
  await writeFile(file("server.pem"), certificates.serverPem);
  await writeFile(file("server.key"), certificates.serverKeyPem, { mode: 0o600 });
  await writeFile(file("exposed.key"), certificates.serverKeyPem);
  await chmod(file("exposed.key"), 0o644);
  await writeFile(file("wrong.key"), makeTestCertificates().serverKeyPem, { mode: 0o600 });
  await writeFile(file("member.token"), "a-member-token-of-enough-characters\n", { mode: 0o600 });
  await writeFile(file("scanner.token"), "a-scanner-token-of-enough-characters\n", { mode: 0o600 });
  const port = await freeLoopbackPort();
  address = `127.0.0.1:${port}`;
  node = spawnCli(nodeArgs("--member-listen", `0.0.0.0:${port}`, "--member-token-file", file("member.token"), "--member-match-token-file", file("scanner.token"), "--member-tls-cert", file("server.pem"), "--member-tls-key", file("server.key")));
  expect(await node.lines(1, 30_000)).toEqual([expect.stringMatching(/^hashfed node ready: member port \d+, log port \d+$/)]);
});

afterAll(async () => {
  if (node !== undefined && node.child.exitCode === null) {
    node.child.kill("SIGTERM");
    await node.exited;
  }
  await rm(setup.folder, { recursive: true, force: true });
});

test("the node says its Member service is on TLS", () => {
  expect(node.stderr()).toContain(`Member service on 0.0.0.0:${address.split(":")[1]} (port ${address.split(":")[1]}, TLS)`);
});

test("a client that trusts the node's authority and has the token submits and reads", async () => {
  const access = ["--node", address, "--token-file", file("member.token"), "--tls-ca", file("ca.pem")];
  const submitted = await runCli(["submit", "--type", "md5", "--value", "0123456789abcdef0123456789abcdef", "--label", "glorification", ...access]);
  expect({ code: submitted.code, stderr: submitted.stderr }).toEqual({ code: 0, stderr: "" });
  expect(submitted.stdout).toMatch(/^committed: statement [0-9a-f]{64} at log index 0$/m);
  const status = await runCli(["status", ...access]);
  expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: "" });
  expect(status.stdout).toContain("log size 1 at height 1");
});

test("a scanner's match-only token matches, and is refused for a submission", async () => {
  const access = ["--node", address, "--token-file", file("scanner.token"), "--tls-ca", file("ca.pem")];
  const matched = await runCli(["match", "--type", "md5", "--value", "0123456789abcdef0123456789abcdef", "--json", ...access]);
  expect({ code: matched.code, stderr: matched.stderr }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(matched.stdout).results[0].matches).toHaveLength(1);
  expectRefused(await runCli(["submit", "--type", "md5", "--value", "00112233445566778899aabbccddeeff", "--label", "glorification", ...access]), "PERMISSION_DENIED: this node's match-only token may call Match and Status, not Submit");
});

test("a client without TLS, or one that does not trust the node's certificate, or names it otherwise, does not get through, and is told why", async () => {
  const withToken = ["--token-file", file("member.token")];
  // On loopback the CLI connects without TLS if told to; the node's TLS-only port refuses the connection.
  expectRefused(await runCli(["status", "--node", address, ...withToken]), "UNAVAILABLE: the node closed the connection as it opened: it may serve TLS at this address");
  expectRefused(await runCli(["status", "--node", address, ...withToken, "--tls-ca", file("other-ca.pem")]), "UNAVAILABLE: the node's TLS certificate is not one this client trusts");
  // Loopback too, but not an address the certificate names (it names localhost and 127.0.0.1).
  const unnamed = `127.0.0.2:${address.split(":")[1]}`;
  expectRefused(await runCli(["status", "--node", unnamed, ...withToken, "--tls-ca", file("ca.pem")]), "UNAVAILABLE: the node's TLS certificate does not name this address");
  expectRefused(await runCli(["status", "--node", address, ...withToken, "--tls-ca", file("member.token")]), "member.token holds no PEM certificate");
  // The node's Log port serves plain gRPC.
  expectRefused(await runCli(["status", "--node", setup.publicAddress, "--tls"]), "UNAVAILABLE: the node does not serve TLS at this address");
});

test("a client does not connect to a Member service off loopback in the clear, token or not (before it reads the token)", async () => {
  expectRefused(await runCli(["status", "--node", "192.0.2.1:7400", "--token-file", file("exposed.key")]), "192.0.2.1:7400 is not loopback: a node serves its Member service there over TLS only");
  expectRefused(await runCli(["match", "--node", "192.0.2.1:7400", "--type", "md5", "--value", "0123456789abcdef0123456789abcdef"]), "would cross the network in the clear; connect with --tls-ca");
});

test("a client in the clear on loopback ignores a proxy named in the environment (it would see the token)", async () => {
  const proxied: string[] = [];
  const proxy = createServer((socket) => {
    socket.once("data", (chunk) => proxied.push(chunk.toString("latin1").split("\r\n")[0]!));
    socket.on("error", () => {});
    setTimeout(() => socket.destroy(), 100);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    // The node's Log port, in the clear: the Member call reaches it (UNIMPLEMENTED there) only if it went straight to the node.
    const result = await runCli(["status", "--node", setup.publicAddress, "--token-file", file("member.token")], { env: { http_proxy: proxyUrl, grpc_proxy: proxyUrl, no_proxy: "" } });
    expectRefused(result, "UNIMPLEMENTED");
    expect(proxied).toEqual([]);
  } finally {
    proxy.close();
  }
});

describe("a node is refused at start", () => {
  test("off loopback without TLS", async () => {
    expectRefused(await runCli(nodeArgs("--member-listen", "0.0.0.0:7499", "--member-token-file", file("member.token"))), "is not loopback: give it TLS (--member-tls-cert, --member-tls-key), or its token and the reveals it serves cross the network in the clear");
  });

  test("with a TLS key that group or others can read", async () => {
    expectRefused(await runCli(nodeArgs("--member-tls-cert", file("server.pem"), "--member-tls-key", file("exposed.key"))), "exposed.key holds a secret but has mode 0644");
  });

  test("with a TLS key of another certificate, or a certificate file that is not there", async () => {
    expectRefused(await runCli(nodeArgs("--member-tls-cert", file("server.pem"), "--member-tls-key", file("wrong.key"))), "are not a usable TLS certificate chain and matching private key");
    expectRefused(await runCli(nodeArgs("--member-tls-cert", file("missing.pem"), "--member-tls-key", file("server.key"))), "cannot read the TLS file");
  });

  // Once a bug: the node waited for good for a writer to the FIFO.
  test("with a certificate path that is a FIFO, or a key file that is one", async () => {
    execFileSync("mkfifo", [file("fifo.pem")]);
    expectRefused(await runCli(nodeArgs("--member-tls-cert", file("fifo.pem"), "--member-tls-key", file("server.key"))), "fifo.pem: it is not a regular file");
    expectRefused(await runCli(["node", "--key", file("fifo.pem"), "--federation", setup.federationFile, "--data", defaultDataDir(setup)]), "fifo.pem is not a regular file");
  });

  test("with a certificate and no key (a usage error)", async () => {
    const result = await runCli(nodeArgs("--member-tls-cert", file("server.pem")));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give both --member-tls-cert and --member-tls-key, or neither");
  });
});
