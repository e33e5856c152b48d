import { type Command, Option } from "commander";
import type { Submission } from "../../gen/hashfed/v1/member";
import type { StatementId } from "../../statements";
import { hostAndPort, nonNegativeInteger, statementIdHex, timeoutMs } from "../arguments";
import { RETRACT_REASON_BY_NAME } from "../retractReasons";
import { base64, hex, print, toJson } from "../output";
import { status } from "@grpc/grpc-js";
import { call, connectMember, isRpcError, type MemberAccess } from "../../client/rpc";
import { HashfedError } from "../../errors";

interface ConnectionOptions extends MemberAccess {
  node: string;
  json?: boolean;
}

interface SubmitOptions extends ConnectionOptions {
  timeout?: number;
}

export function memberConnectionOptions(command: Command): Command {
  return command
    .option("--node <host:port>", "the node's Member service", hostAndPort, "127.0.0.1:7400")
    .option("--token-file <file>", "bearer token for a Member service off loopback")
    .option("--tls", "connect over TLS, trusting Node.js's bundled certificate authorities and NODE_EXTRA_CA_CERTS (a Member service off loopback serves TLS only)")
    .option("--tls-ca <file>", "connect over TLS, trusting the PEM certificate authorities in this file")
    .option("--json", "print JSON");
}

/** --timeout, for commands that wait for a commit: without it they wait as long as consensus takes. */
function submitOptions(command: Command): Command {
  return memberConnectionOptions(command).option(
    "--timeout <ms>",
    "stop waiting for the commit after this long (the statement may still commit; submitting again is safe)",
    timeoutMs,
  );
}

/**
 * `alreadyPresent` says what an acknowledgement of an entry that was on the log already means: for
 * a retraction, that the entry was retracted before, by the acknowledged entry, whose reason stands.
 */
async function submitAndReport(options: SubmitOptions, submissions: Submission[], alreadyPresent = "already on the log"): Promise<void> {
  const connection = connectMember(options.node, options);
  const response = await call(connection, connection.client.submit, { submissions }, options.timeout).catch((error: unknown) => {
    if (!isRpcError(error) || error.code !== status.DEADLINE_EXCEEDED) throw error;
    throw new HashfedError("unavailable", "SUBMIT_TIMEOUT", `not committed within ${options.timeout} ms (is a quorum of validators up? see hashfed status); it may still commit, and submitting it again is safe`);
  });
  if (options.json) return print(toJson(response));
  for (const ack of response.acknowledgements) {
    const state = ack.alreadyPresent ? alreadyPresent : "committed";
    print(`${state}: statement ${hex(ack.statementId)} at log index ${ack.logIndex}`);
    print(`  inclusion proof: ${ack.inclusionProof.map(base64).join(" ")}`);
  }
  print("checkpoint:");
  process.stdout.write(response.checkpoint);
}

export function addSubmitCommands(program: Command): void {
  submitOptions(
    program
      .command("submit")
      .description("add a hash to the list, signed by the node with the member's key; prints the log index, proof and checkpoint")
      .requiredOption("--type <type>", "pdq, md5 or sha256")
      .requiredOption("--value <hex>", "the hash in hex")
      .requiredOption("--label <label...>", "labels from the federation's taxonomy")
      .option("--quality <n>", "PDQ quality 0..100", nonNegativeInteger, 100),
  ).action((options: SubmitOptions & { type: string; value: string; label: string[]; quality: number }) =>
    submitAndReport(options, [{ kind: { $case: "add", value: { signalType: options.type, value: options.value, labels: options.label, quality: options.quality } } }]),
  );
  submitOptions(
    program
      .command("retract")
      .description("withdraw one of the member's own entries")
      .requiredOption("--id <statement-id>", "the statement id (hex) of the entry to withdraw", statementIdHex)
      .addOption(new Option("--reason <reason>", "why").choices(Object.keys(RETRACT_REASON_BY_NAME)).makeOptionMandatory()),
  ).action((options: SubmitOptions & { id: StatementId; reason: string }) => {
    const reason = RETRACT_REASON_BY_NAME[options.reason]!;
    const retracted = "already retracted, by the entry below; its reason stands, so a different --reason is not recorded";
    return submitAndReport(options, [{ kind: { $case: "retract", value: { target: options.id, reason } } }], retracted);
  });
}
