import type { Command } from "commander";
import { nonNegativeBigInteger } from "../arguments";
import { base64, print, toJson } from "../output";
import { call, connectLog } from "../../client/rpc";

/** The JSON a proof is printed as with --json, and what `hashfed verify` reads. */
export type ProofDocument =
  | { readonly type: "inclusion"; readonly index: string; readonly treeSize: string; readonly leafHash: string; readonly proof: readonly string[] }
  | { readonly type: "consistency"; readonly first: string; readonly second: string; readonly proof: readonly string[] };

function printProof(document: ProofDocument, json: boolean | undefined): void {
  if (json) return print(toJson(document));
  const head = document.type === "inclusion"
    ? `inclusion of entry ${document.index} in the tree of size ${document.treeSize} (leaf hash ${document.leafHash})`
    : `consistency of the tree of size ${document.first} with the tree of size ${document.second}`;
  print(head);
  for (const hash of document.proof) print(`  ${hash}`);
}

export function addProofCommands(program: Command): void {
  const proof = program.command("proof").description("fetch RFC 9162 proofs from a node's Log service");
  proof
    .command("inclusion")
    .description("prove that entry INDEX is in the tree of size SIZE")
    .requiredOption("--index <n>", "log index", nonNegativeBigInteger)
    .option("--size <n>", "tree size (default: the latest)", nonNegativeBigInteger, 0n)
    .option("--node <host:port>", "a node's Log service", "127.0.0.1:7401")
    .option("--json", "print JSON (the input of `hashfed verify inclusion`)")
    .action(async (options: { index: bigint; size: bigint; node: string; json?: boolean }) => {
      const connection = connectLog(options.node);
      const response = await call(connection, connection.client.getInclusionProof, { index: options.index, treeSize: options.size });
      printProof({
        type: "inclusion",
        index: options.index.toString(),
        treeSize: response.treeSize.toString(),
        leafHash: base64(response.leafHash),
        proof: response.proof.map(base64),
      }, options.json);
    });
  proof
    .command("consistency")
    .description("prove that the tree of size FIRST is a prefix of the tree of size SECOND")
    .requiredOption("--first <n>", "the older tree size", nonNegativeBigInteger)
    .requiredOption("--second <n>", "the newer tree size", nonNegativeBigInteger)
    .option("--node <host:port>", "a node's Log service", "127.0.0.1:7401")
    .option("--json", "print JSON (the input of `hashfed verify consistency`)")
    .action(async (options: { first: bigint; second: bigint; node: string; json?: boolean }) => {
      const connection = connectLog(options.node);
      const response = await call(connection, connection.client.getConsistencyProof, { first: options.first, second: options.second });
      printProof({ type: "consistency", first: options.first.toString(), second: options.second.toString(), proof: response.proof.map(base64) }, options.json);
    });
}
