/**
 * Goal: a member whose federation allows Submit requests of 10,000 (submissionsPerRequestMax at its
 * largest) gets their answers. Each acknowledgement carries an inclusion proof: the answer was
 * about 5 MB, past gRPC's default 4 MiB, and the client never received what had committed, nor on
 * retrying (found by a review of the submit path).
 * Method: an in-process node of a federation allowing 10,000, and the CLI's Member connection.
 */
import { rm } from "node:fs/promises";
import { call, connectMember } from "../../src/client/rpc";
import { startInProcessNode, testFederation } from "../support/inProcessNode";
import { addSubmission, randomHex32 } from "../support/submissions";

test("a Submit of 10,000 is answered, and so is the same request again", async () => {
  const setup = await testFederation({ submissionsPerRequestMax: 10_000 });
  const node = await startInProcessNode(setup);
  const member = connectMember(`127.0.0.1:${node.memberPort}`);
  try {
    const submissions = Array.from({ length: 10_000 }, () => addSubmission("sha256", randomHex32()));
    const first = await call(member, member.client.submit, { submissions });
    expect(first.acknowledgements.map((ack) => ack.logIndex)).toEqual(Array.from({ length: 10_000 }, (_, i) => BigInt(i)));
    const again = await call(member, member.client.submit, { submissions });
    expect(again.acknowledgements.every((ack, i) => ack.alreadyPresent && ack.logIndex === BigInt(i))).toBe(true);
  } finally {
    member.client.close();
    await node.stop();
    await rm(setup.folder, { recursive: true, force: true });
  }
}, 120_000);
