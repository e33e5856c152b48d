import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { LogNode } from "../../src/audit/logNode";
import { LogService } from "../../src/gen/hashfed/v1/log";

/**
 * Goal: the auditor takes GetEntries answers as untrusted bytes: entries are split out in place, and
 * any answer that is not a run of entries is refused with a message naming the node, never a crash.
 * Method: a gRPC server whose GetEntries handler answers raw bytes, written by hand.
 */

let answer = Buffer.alloc(0);
let server: Server;
let node: LogNode;

beforeAll(async () => {
  server = new Server();
  server.addService(
    { getEntries: { ...LogService.getEntries, responseSerialize: (bytes: Buffer) => bytes } },
    { getEntries: (_call: ServerUnaryCall<unknown, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, answer) },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  node = new LogNode(`127.0.0.1:${port}`, 5000);
});

afterAll(async () => {
  node.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

test("a run of field 1 is split into its entries, as sent", async () => {
  answer = Buffer.concat([Buffer.from([0x0a, 0x03]), Buffer.from("abc"), Buffer.from([0x0a, 0x00]), Buffer.from([0x0a, 0x01, 0x7a])]);
  expect((await node.leaves(4n, 7n)).map((leaf) => leaf.toString())).toEqual(["abc", "", "z"]);
});

test.each([
  ["another field", Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x01, 0x62]), /unexpected field 2 \(wire type 2\) after 1 entries/],
  ["an entry that runs past the end", Buffer.from([0x0a, 0x05, 0x61]), /entry 0: /],
  ["a length cut short", Buffer.from([0x0a, 0x01, 0x61, 0x0a, 0x80]), /entry 1: premature EOF/],
])("%s is refused as a malformed answer from the node", async (_name, bytes, message) => {
  answer = bytes;
  const error = await node.leaves(0n, 2n).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toMatchObject({ code: "NODE_ANSWER_MALFORMED" });
  expect((error as Error).message).toMatch(message);
  expect((error as Error).message).toContain(node.address);
});

test("the right entries in the wrong number are refused too", async () => {
  answer = Buffer.from([0x0a, 0x01, 0x61]);
  await expect(node.leaves(0n, 2n)).rejects.toMatchObject({ code: "NODE_ANSWER_MALFORMED", message: expect.stringContaining("it sent 1 entries") });
});
