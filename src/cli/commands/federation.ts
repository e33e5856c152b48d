import { readFileSync, writeFileSync, existsSync } from "node:fs";
import type { Command } from "commander";
import { HashfedError } from "../../errors";
import { parseVerifierKey } from "../../crypto";
import { faultTolerance, formatFederationFile, type MemberSpec, parseFederation, quorumSize } from "../../federation";
import { checkWritable, nonNegativeInteger } from "../arguments";
import { print, toJson } from "../output";

/** `<vkey or vkey file>@<host:port>`: a member as given on the command line. */
function parseMemberArgument(argument: string, role: MemberSpec["role"]): MemberSpec {
  const at = argument.lastIndexOf("@");
  if (at < 0) throw new HashfedError("invalid", "MEMBER_ARGUMENT", `a member is <verifier key or file>@<host:port>, got ${JSON.stringify(argument)}`);
  const keyPart = argument.slice(0, at);
  const text = keyPart.includes("+") && !existsSync(keyPart) ? keyPart : readFileSync(keyPart, "utf8").trim();
  const key = parseVerifierKey(text);
  return { name: key.name, key: key.text, address: argument.slice(at + 1), role };
}

export function addFederationCommands(program: Command): void {
  const federation = program.command("federation").description("create and inspect federation files");
  federation
    .command("init")
    .description("write a federation file from the members' verifier keys")
    .requiredOption("--origin <origin>", "the log's origin: the first line of every checkpoint, e.g. hashfed.example/pilot")
    .option("--validator <vkey@address...>", "a validator: its verifier key (text or file) @ its peer address", [])
    .option("--observer <vkey@address...>", "an observer (follows the log, does not vote)", [])
    .option("--pdq-distance-max <n>", "largest PDQ Hamming distance that counts as a match", nonNegativeInteger)
    .option("--pdq-quality-min <n>", "smallest PDQ quality accepted", nonNegativeInteger)
    .option("--out <file>", "where to write it", "federation.json")
    .option("--force", "overwrite an existing file")
    .action((options: { origin: string; validator: string[]; observer: string[]; pdqDistanceMax?: number; pdqQualityMin?: number; out: string; force?: boolean }) => {
      checkWritable([options.out], options.force);
      const members = [
        ...options.validator.map((argument) => parseMemberArgument(argument, "validator")),
        ...options.observer.map((argument) => parseMemberArgument(argument, "observer")),
      ];
      const text = formatFederationFile({
        origin: options.origin,
        members,
        parameters: { pdqDistanceMax: options.pdqDistanceMax, pdqQualityMin: options.pdqQualityMin },
      });
      writeFileSync(options.out, text);
      print(`wrote ${options.out}: federation ${parseFederation(text).id.toString("hex")}`);
    });
  federation
    .command("show")
    .description("check a federation file and print its id, members and quorum")
    .argument("<file>", "the federation file")
    .option("--json", "print JSON")
    .action((file: string, options: { json?: boolean }) => {
      const fed = parseFederation(readFileSync(file, "utf8"));
      const n = fed.validators.length;
      const summary = {
        id: fed.id.toString("hex"),
        origin: fed.origin,
        validators: n,
        quorum: quorumSize(n),
        faultTolerance: faultTolerance(n),
        members: fed.members.map((member) => ({ name: member.name, role: member.role, address: member.address, key: member.key.text })),
        taxonomy: fed.taxonomy,
        parameters: fed.parameters,
      };
      if (options.json) return print(toJson(summary));
      print(`federation ${summary.id}`);
      print(`origin     ${fed.origin}`);
      print(`quorum     ${summary.quorum} of ${n} validators (tolerates ${summary.faultTolerance} faulty)`);
      for (const member of summary.members) print(`  ${member.role.padEnd(9)} ${member.name}  ${member.address}`);
      print(`labels     ${fed.taxonomy.labels.join(", ")} (taxonomy v${fed.taxonomy.version})`);
    });
}
