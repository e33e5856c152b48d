/**
 * Goal: a node stops promptly and cleanly even while a client follows its log (a stream that never
 * ends on its own), and a restart from the same folder serves the same log.
 * Method: an in-process node with an open Follow stream is stopped; stop() must resolve (within
 * the test's timeout: it cuts streams after a grace period of 2 s) and the stream must end with an
 * error status, not hang.
 */
import { rm } from "node:fs/promises";
import type { ServiceError } from "@grpc/grpc-js";
import { call, connectMember } from "../../src/client/rpc";
import { startInProcessNode, testFederation } from "../support/inProcessNode";

test("stop() ends open Follow streams and closes the store; a restart serves the same log", async () => {
  const setup = await testFederation();
  const node = await startInProcessNode(setup);
  const member = connectMember(`127.0.0.1:${node.memberPort}`);
  const value = "ab".repeat(32);
  await call(member, member.client.submit, { submissions: [{ kind: { $case: "add", value: { signalType: "sha256", value, labels: ["graphic-violence"], quality: 0 } } }] });
  const stream = member.client.follow({ fromIndex: 0n }, member.metadata);
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    stream.on("error", (error: ServiceError) => resolve(error));
    stream.on("end", () => resolve(undefined));
  });
  await new Promise((resolve) => stream.once("data", resolve));
  // A stream that never ends on its own is cut after the grace period: before, stop() never resolved (jest's timeout says so).
  await node.stop();
  expect(await ended).toBeDefined();
  member.client.close();

  const again = await startInProcessNode(setup);
  const client = connectMember(`127.0.0.1:${again.memberPort}`);
  const status = await call(client, client.client.status, {});
  expect(status.treeSize).toBe(1n);
  client.client.close();
  await again.stop();
  await rm(setup.folder, { recursive: true, force: true });
});
