import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { formatProofBundle, LogNode, parseProofBundle, type ProofBundle, RETRACT_REASON_NAMES, verifyCosignedCheckpoint, type VerifiedBundle, verifyProofBundle } from "../../audit";
import { AUDIT_FILE_MODE } from "../../audit/auditFileModes";
import { writeFileAtomically } from "../../files/atomicFile";
import { HashfedError, locating } from "../../errors";
import { type Federation, parseFederation } from "../../federation";
import type { Reveal } from "../../gen/hashfed/v1/statement";
import { parseLogEntryLeaf, type StatementId } from "../../statements";
import { checkWritable, hostAndPort, nonNegativeBigInteger, statementIdHex } from "../arguments";
import { base64, hex, print, toJson } from "../output";
import { call, connectLog, connectMember } from "../../client/rpc";

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
  const proof = program.command("proof").description("fetch RFC 9162 proofs from a node's Log service; export and verify offline proof bundles");
  proof
    .command("inclusion")
    .description("prove that entry INDEX is in the tree of size SIZE")
    .requiredOption("--index <n>", "log index", nonNegativeBigInteger)
    .option("--size <n>", "tree size (default: the latest)", nonNegativeBigInteger)
    .option("--node <host:port>", "a node's Log service", "127.0.0.1:7401")
    .option("--json", "print JSON (the input of `hashfed verify inclusion`)")
    .action(async (options: { index: bigint; size?: bigint; node: string; json?: boolean }) => {
      const connection = connectLog(options.node);
      // Tree size 0 asks the node for its latest tree.
      const response = await call(connection, connection.client.getInclusionProof, { index: options.index, treeSize: options.size ?? 0n });
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
  addProofBundleCommands(proof);
}

/** How long one call to a node may take while exporting a bundle. */
const EXPORT_DEADLINE_MS = 30_000;

interface ExportOptions {
  federation: string;
  index?: bigint;
  id?: StatementId;
  node: string;
  member?: string;
  tokenFile?: string;
  tls?: boolean;
  tlsCa?: string;
  reveal?: boolean;
  out: string;
  force?: boolean;
  json?: boolean;
}

/**
 * `proof export` and `proof verify`: an offline proof bundle for one entry (src/audit/proofBundle.ts),
 * what a platform hands a regulator to show why it removed a piece of content. Exit codes: 0 the
 * bundle was written / is valid; 1 it could not be / is not (the reason on stderr); 2 usage.
 */
export function addProofBundleCommands(proof: Command): void {
  proof
    .command("export")
    .description("write an offline proof bundle for one entry (C2SP tlog-proof): the signed entry, optionally its reveal, an inclusion proof and the cosigned checkpoint")
    .requiredOption("--federation <file>", "the federation file; the bundle is verified against it before it is written")
    .option("--index <n>", "the entry's log index", nonNegativeBigInteger)
    .option("--id <statement-id>", "the entry's statement id (hex); needs --member", statementIdHex)
    .option("--node <host:port>", "a node's Log service", "127.0.0.1:7401")
    .option("--member <host:port>", "the node's Member service, for --id and --reveal", hostAndPort)
    .option("--token-file <file>", "bearer token for a Member service off loopback")
    .option("--tls", "reach --member over TLS, trusting Node.js's bundled certificate authorities and NODE_EXTRA_CA_CERTS")
    .option("--tls-ca <file>", "reach --member over TLS, trusting the PEM certificate authorities in this file")
    .option("--reveal", "include the entry's reveal, which discloses the hash (needs --member)")
    .requiredOption("--out <file>", "the bundle file (conventionally .tlog-proof), written with mode 0600")
    .option("--force", "overwrite --out")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExit codes: 0 the bundle was verified and written; 1 it could not be (the reason on stderr); 2 usage error.")
    .action(async (options: ExportOptions, command: Command) => {
      if ((options.index === undefined) === (options.id === undefined)) command.error("error: give exactly one of --index or --id");
      if ((options.id !== undefined || options.reveal) && options.member === undefined) command.error("error: --id and --reveal need --member <host:port>");
      checkWritable([options.out], options.force);
      const federation = parseFederation(readFileSync(options.federation, "utf8"));
      const bundle = await fetchBundle(federation, options);
      const text = formatProofBundle(bundle);
      const verified = verifyProofBundle(federation, parseProofBundle(text));
      await writeFileAtomically(options.out, text, { mode: AUDIT_FILE_MODE, exclusive: options.force !== true });
      const { size } = verified.checkpoint.checkpoint;
      if (options.json) return print(toJson({ file: options.out, index: bundle.index, treeSize: size, statementId: verified.statement.id, revealed: bundle.entry?.reveal !== undefined }));
      print(`wrote ${options.out}: entry ${bundle.index} (statement ${hex(verified.statement.id)}) in the tree of size ${size}${bundle.entry?.reveal === undefined ? "" : ", with its reveal"}`);
    });
  proof
    .command("verify")
    .description("check a proof bundle offline against the federation file (exit 0: valid, 1: not valid)")
    .argument("<bundle>", "the bundle file, or - for stdin")
    .requiredOption("--federation <file>", "the federation file")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExit codes: 0 the bundle is valid; 1 it is not, or cannot be read (the reason on stderr); 2 usage error.")
    .action((file: string, options: { federation: string; json?: boolean }) => {
      const federation = parseFederation(readFileSync(options.federation, "utf8"));
      const verified = verifyProofBundle(federation, parseProofBundle(readFileSync(file === "-" ? 0 : file, "utf8")));
      print(options.json ? toJson(bundleJson(verified)) : describeBundle(verified));
    });
}

/** The entry, its reveal if asked for, and its inclusion proof under the node's latest checkpoint. */
async function fetchBundle(federation: Federation, options: ExportOptions): Promise<ProofBundle> {
  const { index, reveal } = options.member === undefined ? { index: options.index!, reveal: undefined } : await lookUpEntry(options.member, options);
  const node = new LogNode(options.node, EXPORT_DEADLINE_MS);
  try {
    const note = await node.checkpoint();
    const size = note === undefined ? 0n : verifyCosignedCheckpoint(federation, note).checkpoint.size;
    if (note === undefined || index >= size) {
      throw new HashfedError("out-of-range", "ENTRY_NOT_COMMITTED", `entry ${index} is not under ${options.node}'s latest checkpoint (size ${size}) yet`);
    }
    const [leaves, proof] = await Promise.all([node.leaves(index, index + 1n), node.inclusionProof(index, size)]);
    const signed = locating(`entry ${index} as served`, () => parseLogEntryLeaf(leaves[0]!));
    const entry = { statement: signed.bytes, signature: signed.signature };
    return { index, hashes: proof.hashes, checkpoint: note, entry: { entry, ...(reveal === undefined ? {} : { reveal }) } };
  } finally {
    node.close();
  }
}

/** The entry's index, and its reveal when asked for, from the member's own node (GetEntry). */
async function lookUpEntry(address: string, options: ExportOptions): Promise<{ index: bigint; reveal: Reveal | undefined }> {
  const member = connectMember(address, options);
  const key = options.index !== undefined ? { $case: "logIndex" as const, value: options.index } : { $case: "statementId" as const, value: options.id! };
  try {
    const view = await call(member, member.client.getEntry, { key }, EXPORT_DEADLINE_MS);
    // A retraction has no reveal; the node may send an empty one.
    const revealed = options.reveal === true && view.reveal !== undefined && view.reveal.value.length > 0;
    return { index: view.logIndex, reveal: revealed ? view.reveal : undefined };
  } finally {
    member.client.close();
  }
}

function describeBundle(verified: VerifiedBundle): string {
  const { checkpoint, statement, submitter, reveal } = verified;
  const body = statement.statement.body!;
  const what = body.$case === "addSignal"
    ? `adds a ${body.value.signalType} signal labelled ${body.value.labels.join(", ")} (taxonomy version ${body.value.taxonomyVersion})`
    : `retracts statement ${hex(body.value.target)} (${RETRACT_REASON_NAMES.get(body.value.reason) ?? "unknown reason"})`;
  const disclosed = body.$case !== "addSignal"
    ? undefined
    : reveal !== undefined ? `  reveal: the statement commits to the ${body.value.signalType} value ${hex(reveal.value)}` : "  no reveal: the hash itself is not disclosed";
  return [
    `valid: entry ${verified.index} is in the log of size ${checkpoint.checkpoint.size} (root ${base64(checkpoint.checkpoint.root)}), cosigned by ${checkpoint.signers.join(", ")}`,
    `  statement ${hex(statement.id)} by ${submitter.name}, signed with its key ${hex(submitter.key.keyId)}, ${what}`,
    ...(disclosed === undefined ? [] : [disclosed]),
  ].join("\n");
}

function bundleJson(verified: VerifiedBundle): object {
  const body = verified.statement.statement.body!;
  return {
    valid: true,
    index: verified.index,
    treeSize: verified.checkpoint.checkpoint.size,
    root: verified.checkpoint.checkpoint.root,
    signers: verified.checkpoint.signers,
    statementId: verified.statement.id,
    submitter: verified.submitter.name,
    statement: body.$case === "addSignal"
      ? { kind: "addSignal", signalType: body.value.signalType, labels: body.value.labels, taxonomyVersion: body.value.taxonomyVersion }
      : { kind: "retract", target: body.value.target, reason: RETRACT_REASON_NAMES.get(body.value.reason) },
    ...(verified.reveal === undefined ? {} : { revealedValue: hex(verified.reveal.value) }),
  };
}
