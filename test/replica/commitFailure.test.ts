/**
 * Goal: a commit that the disk fails stops the node with the disk's error, so that its operator
 * looks at the disk; it had been reported as "the certificate of a decision does not verify", a
 * bug of the node's own.
 * Method: a one-validator replica (it decides alone) on an in-memory store whose commit writes fail.
 */
import { systemTimers } from "../../src/node/environment";
import { Replica } from "../../src/replica/replica";
import { MemoryKeyValueStore, type WriteOperation } from "../../src/store";
import { HEAD_KEY } from "../../src/store/keys";
import { federationFixture, StatementMaker } from "../support/statements";

/** A store whose writes of a commit (the ones that move the head) fail as a full disk would. */
class FullDisk extends MemoryKeyValueStore {
  override write(operations: readonly WriteOperation[], options: { readonly sync: boolean }): Promise<void> {
    if (operations.some((operation) => operation.key.equals(HEAD_KEY))) return Promise.reject(new Error("IO error: No space left on device"));
    return super.write(operations, options);
  }
}

test("a commit the disk fails stops the node with the disk's error, not as a bad certificate", async () => {
  const { federation, validators } = federationFixture({ label: "commit-failure" });
  const fatal: Error[] = [];
  const replica = await Replica.open({ federation, signer: validators[0]!.signer, kv: new FullDisk(), timers: systemTimers, transport: { send: () => {} }, onFatal: (error) => fatal.push(error as Error) });
  replica.submit([new StatementMaker(federation, "commit-failure").add(validators[0]!.key)]);
  for (let waited = 0; fatal.length === 0 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(fatal.map((error) => error.message)).toEqual(["IO error: No space left on device"]);
  replica.close();
});
