import type { Command } from "commander";
import { generateSeed, privateKeyFromSeed, writePrivateKeyFile, writeVerifierKeyFile } from "../../crypto";
import { checkWritable } from "../arguments";
import { print, toJson } from "../output";

export function addKeygenCommand(program: Command): void {
  program
    .command("keygen")
    .description("generate a member's Ed25519 key: the private key file (mode 0600) and its C2SP verifier key")
    .requiredOption("--name <name>", "the member's name, e.g. videohost.example")
    .option("--out <file>", "private key file", "member.key")
    .option("--vkey-out <file>", "also write the verifier key to this file")
    .option("--force", "overwrite existing files")
    .option("--json", "print JSON")
    .action(async (options: { name: string; out: string; vkeyOut?: string; force?: boolean; json?: boolean }) => {
      checkWritable([options.out, options.vkeyOut], options.force);
      const key = privateKeyFromSeed(options.name, generateSeed());
      await writePrivateKeyFile(options.out, key, { overwrite: options.force === true });
      if (options.vkeyOut !== undefined) await writeVerifierKeyFile(options.vkeyOut, key.verifierKey, { overwrite: options.force === true });
      if (options.json) {
        print(toJson({ name: key.name, keyId: key.keyId.toString("hex"), verifierKey: key.verifierKey.text, privateKeyFile: options.out }));
        return;
      }
      print(`private key: ${options.out} (mode 0600; keep it secret)`);
      print(`verifier key: ${key.verifierKey.text}`);
    });
}
