/**
 * Goal: the ports handed to the demo's and the tests' nodes are free to listen on, distinct within a
 * process, and outside the range the OS draws outgoing connections' ports from.
 * Method: 200 ports asked for in a row; the first listened on (each was free when handed out: the
 * function listens on it to check).
 */
import { createServer } from "node:net";
import { freeLoopbackPort, outgoingPortsStart } from "../../src/cli/loopbackPort";

test("ports are distinct, just below the outgoing connections' range, and free to listen on", async () => {
  const ports: number[] = [];
  for (let i = 0; i < 200; i++) ports.push(await freeLoopbackPort());
  expect(new Set(ports).size).toBe(ports.length);
  for (const port of ports) {
    expect(port).toBeLessThan(outgoingPortsStart());
    expect(port).toBeGreaterThanOrEqual(Math.max(1024, outgoingPortsStart() - 12_768));
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(ports[0], "127.0.0.1", resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});
