import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSeed, type PrivateKey, privateKeyFromSeed } from "../../src/crypto";
import { type Federation, type FederationParameters, formatFederationFile, parseFederation } from "../../src/federation";
import { HashfedNode } from "../../src/node/hashfedNode";

export interface TestFederation {
  readonly folder: string;
  readonly federation: Federation;
  /** The validator, whose node runs. */
  readonly key: PrivateKey;
  /** An observer member, whose statements reach the log by other paths. */
  readonly otherKey: PrivateKey;
  /** A key that is no member's. */
  readonly strangerKey: PrivateKey;
}

export async function testFederation(parameters: Partial<FederationParameters> = {}): Promise<TestFederation> {
  const folder = await mkdtemp(join(tmpdir(), "hashfed-test-"));
  const key = privateKeyFromSeed("videohost.example", generateSeed());
  const otherKey = privateKeyFromSeed("photoshare.example", generateSeed());
  const strangerKey = privateKeyFromSeed("videohost.example", generateSeed());
  const text = formatFederationFile({
    origin: "hashfed.example/test",
    members: [
      { name: key.name, key: key.verifierKey.text, address: "127.0.0.1:7401", role: "validator" },
      { name: otherKey.name, key: otherKey.verifierKey.text, address: "127.0.0.1:7402", role: "observer" },
    ],
    parameters,
  });
  return { folder, federation: parseFederation(text), key, otherKey, strangerKey };
}

export function startInProcessNode(setup: TestFederation, dataDir = join(setup.folder, "data")): Promise<HashfedNode> {
  return HashfedNode.start({
    dataDir,
    federation: setup.federation,
    key: setup.key,
    memberAddress: "127.0.0.1:0",
    publicAddress: "127.0.0.1:0",
    log: () => {},
  });
}
