import type { Command } from "commander";
import { nonNegativeInteger } from "../arguments";
import { hex, print, toJson } from "../output";
import { call, connectMember } from "../../client/rpc";
import { memberConnectionOptions } from "./submit";

export function addMatchCommand(program: Command): void {
  memberConnectionOptions(
    program
      .command("match")
      .description("match a hash against the list: exact for md5 and sha256, within a Hamming distance for pdq")
      .requiredOption("--type <type>", "pdq, md5 or sha256")
      .requiredOption("--value <hex>", "the hash in hex")
      .option("--distance <n>", "pdq: largest distance to report (default: the federation's)", nonNegativeInteger)
      .option("--proof", "attach inclusion proofs against the current checkpoint"),
  ).action(async (options: { node: string; tokenFile?: string; json?: boolean; type: string; value: string; distance?: number; proof?: boolean }) => {
    const connection = connectMember(options.node, options.tokenFile);
    const response = await call(connection, connection.client.match, {
      queries: [{ signalType: options.type, value: options.value, distanceMax: options.distance }],
      includeProof: options.proof === true,
    });
    if (options.json) return print(toJson(response));
    const matches = response.results[0]?.matches ?? [];
    if (matches.length === 0) print("no match");
    for (const match of matches) {
      print(`match at log index ${match.logIndex}: distance ${match.distance}, ${match.signalType} by ${match.submitter}, labels ${match.labels.join(", ")}`);
      print(`  statement ${hex(match.statementId)}`);
    }
  });
}
