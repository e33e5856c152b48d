import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { verifyCosignedCheckpoint, type VerifiedCheckpoint } from "../../audit";
import { DocumentFields } from "../../audit/documentFields";
import { HashfedError, invalid } from "../../errors";
import { type Federation, parseFederation } from "../../federation";
import { describe } from "../../federation/fields";
import { PROOF_HASHES_MAX, verifyConsistency, verifyInclusion } from "../../log";
import { print, toJson } from "../output";
import type { ProofDocument } from "./proof";

function readText(file: string): string {
  return readFileSync(file === "-" ? 0 : file, "utf8");
}

function loadCheckpoint(federation: Federation, file: string): VerifiedCheckpoint {
  return verifyCosignedCheckpoint(federation, readText(file));
}

/** A proof file's fields, checked: decimal sizes in strings, hashes of 32 bytes in canonical base64. */
type LoadedProof =
  | { readonly type: "inclusion"; readonly index: bigint; readonly treeSize: bigint; readonly leafHash: Buffer; readonly proof: Buffer[] }
  | { readonly type: "consistency"; readonly first: bigint; readonly second: bigint; readonly proof: Buffer[] };

function loadProof<T extends ProofDocument["type"]>(file: string, type: T): Extract<LoadedProof, { type: T }> {
  let value: unknown;
  try {
    value = JSON.parse(readText(file));
  } catch (error) {
    throw invalid("PROOF_FILE", `${file} is not JSON: ${(error as Error).message}`);
  }
  const read = new DocumentFields(file, "PROOF_FILE");
  // Which proof it is first: the other kind's file is refused as that, not for its fields.
  const given = read.object(value, "", [], ["type", "index", "treeSize", "leafHash", "first", "second", "proof"]).type;
  if (given !== type) throw read.error("", `holds a proof of ${typeof given === "string" ? given : describe(given)}, not of ${type}`);
  const fields = read.object(value, "", ["type", ...(type === "inclusion" ? ["index", "treeSize", "leafHash"] : ["first", "second"]), "proof"]);
  const proof = read.array(fields.proof, "proof", PROOF_HASHES_MAX).map((hash, position) => read.hash(hash, `proof[${position}]`));
  const loaded: LoadedProof = type === "inclusion"
    ? { type: "inclusion", index: read.uint64(fields.index, "index"), treeSize: read.uint64(fields.treeSize, "treeSize"), leafHash: read.hash(fields.leafHash, "leafHash"), proof }
    : { type: "consistency", first: read.uint64(fields.first, "first"), second: read.uint64(fields.second, "second"), proof };
  return loaded as Extract<LoadedProof, { type: T }>;
}

function report(json: boolean | undefined, result: object, line: string): void {
  print(json ? toJson({ valid: true, ...result }) : line);
}

export function addVerifyCommands(program: Command): void {
  const verify = program
    .command("verify")
    .description("verify checkpoints and proofs offline against a federation file (exit 0: valid, 1: not valid)");
  verify
    .command("checkpoint")
    .description("check that a checkpoint is of this federation and cosigned by a quorum of its validators")
    .argument("<checkpoint>", "the signed note (a file, or - for stdin)")
    .requiredOption("--federation <file>", "the federation file")
    .option("--json", "print JSON")
    .action((file: string, options: { federation: string; json?: boolean }) => {
      const verified = loadCheckpoint(parseFederation(readText(options.federation)), file);
      const { size, root } = verified.checkpoint;
      report(options.json, { treeSize: size, root, signers: verified.signers },
        `valid: tree size ${size}, root ${root.toString("base64")}, cosigned by ${verified.signers.join(", ")}`);
    });
  verify
    .command("inclusion")
    .description("check an inclusion proof (from `hashfed proof inclusion --json`) against a cosigned checkpoint")
    .requiredOption("--federation <file>", "the federation file")
    .requiredOption("--checkpoint <file>", "the cosigned checkpoint the proof is for")
    .requiredOption("--proof <file>", "the proof JSON")
    .option("--json", "print JSON")
    .action((options: { federation: string; checkpoint: string; proof: string; json?: boolean }) => {
      const { checkpoint } = loadCheckpoint(parseFederation(readText(options.federation)), options.checkpoint);
      const proof = loadProof(options.proof, "inclusion");
      if (proof.treeSize !== checkpoint.size) {
        throw new HashfedError("invalid", "SIZE_MISMATCH", `the proof is for tree size ${proof.treeSize}, the checkpoint for ${checkpoint.size}`);
      }
      verifyInclusion(proof.index, checkpoint.size, proof.leafHash, proof.proof, checkpoint.root);
      report(options.json, { index: proof.index.toString(), treeSize: checkpoint.size }, `valid: entry ${proof.index} is in the tree of size ${checkpoint.size}`);
    });
  verify
    .command("consistency")
    .description("check that an older cosigned checkpoint is a prefix of a newer one")
    .requiredOption("--federation <file>", "the federation file")
    .requiredOption("--old <file>", "the older cosigned checkpoint")
    .requiredOption("--new <file>", "the newer cosigned checkpoint")
    .requiredOption("--proof <file>", "the proof JSON (from `hashfed proof consistency --json`)")
    .option("--json", "print JSON")
    .action((options: { federation: string; old: string; new: string; proof: string; json?: boolean }) => {
      const federation = parseFederation(readText(options.federation));
      const older = loadCheckpoint(federation, options.old).checkpoint;
      const newer = loadCheckpoint(federation, options.new).checkpoint;
      const proof = loadProof(options.proof, "consistency");
      if (proof.first !== older.size || proof.second !== newer.size) {
        throw new HashfedError("invalid", "SIZE_MISMATCH", `the proof is for sizes ${proof.first} -> ${proof.second}, the checkpoints are ${older.size} -> ${newer.size}`);
      }
      verifyConsistency(older.size, newer.size, older.root, newer.root, proof.proof);
      report(options.json, { first: older.size, second: newer.size }, `valid: the tree of size ${older.size} is a prefix of the tree of size ${newer.size}`);
    });
}
