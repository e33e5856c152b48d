import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort } from "../../src/cli/loopbackPort";
import { projectRoot } from "../../src/node/projectFiles";
import { generateSeed, type PrivateKey, privateKeyFromSeed, writePrivateKeyFile } from "../../src/crypto";
import { type Federation, formatFederationFile, type FederationParameters, parseFederation } from "../../src/federation";

export const CLI = join(projectRoot(), "dist/src/cli/main.js");

export interface SoloSetup {
  readonly folder: string;
  readonly key: PrivateKey;
  readonly keyFile: string;
  readonly federation: Federation;
  readonly federationFile: string;
  readonly memberAddress: string;
  readonly publicAddress: string;
}

/** A one-validator federation in a fresh temporary folder, with its key and federation files. */
export async function soloFederation(
  name = "videohost.example",
  parameters: Partial<FederationParameters> = {},
  folder?: string,
): Promise<SoloSetup> {
  return (await localFederation([name], parameters, folder))[0]!;
}

/**
 * A federation of validators on loopback in one temporary folder: a key file per member, one
 * federation file, and free ports for each member's Member and Log/Peer services. `publicHosts`
 * puts a member's Log/Peer services at another loopback address than 127.0.0.1, by name.
 */
export async function localFederation(
  names: readonly string[],
  parameters: Partial<FederationParameters> = {},
  folder?: string,
  publicHosts: Readonly<Record<string, string>> = {},
): Promise<SoloSetup[]> {
  if (folder === undefined) folder = await mkdtemp(join(tmpdir(), "hashfed-test-"));
  else await mkdir(folder, { recursive: true });
  const members = [];
  for (const name of names) {
    const key = privateKeyFromSeed(name, generateSeed());
    members.push({ name, key, memberAddress: `127.0.0.1:${await freeLoopbackPort()}`, publicAddress: `${publicHosts[name] ?? "127.0.0.1"}:${await freeLoopbackPort()}` });
  }
  const text = formatFederationFile({
    origin: "hashfed.example/test",
    members: members.map(({ name, key, publicAddress }) => ({ name, key: key.verifierKey.text, address: publicAddress, role: "validator" as const })),
    parameters,
  });
  const federationFile = join(folder, "federation.json");
  await writeFile(federationFile, text);
  const federation = parseFederation(text);
  return Promise.all(
    members.map(async ({ name, key, memberAddress, publicAddress }) => {
      const keyFile = join(folder!, `${name}.key`);
      await writePrivateKeyFile(keyFile, key);
      return { folder: folder!, key, keyFile, federation, federationFile, memberAddress, publicAddress };
    }),
  );
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Round timeouts short enough that a test crossing many rounds (nodes killed, restarted) stays quick. */
export const SHORT_TIMEOUTS = { timeoutProposeMs: 300, timeoutPrevoteMs: 200, timeoutPrecommitMs: 200, timeoutDeltaMs: 100 } as const;

export interface NodeStart {
  /** The data folder; by default `<folder>/data/<name>`. */
  readonly dataDir?: string;
  /** `--listen`: where the Log and Peer services bind instead of the federation file's address. */
  readonly listen?: string;
  /** Environment variables to set for the node besides this process's. */
  readonly env?: Readonly<Record<string, string>>;
}

export function defaultDataDir(setup: SoloSetup): string {
  return join(setup.folder, "data", setup.key.name);
}

/** Starts `hashfed node` as a real process and resolves once it serves. */
export function startNodeProcess(setup: SoloSetup, start: NodeStart = {}): Promise<NodeProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  const args = [CLI, "node", "--key", setup.keyFile, "--federation", setup.federationFile, "--data", start.dataDir ?? defaultDataDir(setup), "--member-listen", setup.memberAddress];
  if (start.listen !== undefined) args.push("--listen", start.listen);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...start.env } });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const handle: NodeProcess = {
    child,
    stderr: () => stderr,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return new Promise((resolveReady, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("hashfed node ready")) resolveReady(handle);
    });
    void exited.then((code) => reject(new Error(`${setup.key.name}'s node exited with ${code} before serving:\n${stderr}`)));
  });
}
