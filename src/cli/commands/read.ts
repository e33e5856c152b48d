import { type Command, Option } from "commander";
import type { EntryView } from "../../gen/hashfed/v1/member";
import type { StatementId } from "../../statements";
import { nonNegativeBigInteger, statementIdHex } from "../arguments";
import { hex, print, toJson } from "../output";
import { retractReasonName } from "../retractReasons";
import { call, connectLog, connectMember, type MemberAccess } from "../../client/rpc";
import { memberConnectionOptions } from "./submit";

function describeEntry(view: EntryView): string {
  const statement = view.statement!;
  const body = statement.body!;
  const what = body.$case === "addSignal"
    ? `add ${body.value.signalType} ${view.reveal ? hex(view.reveal.value) : "(no reveal)"} labels ${body.value.labels.join(",")}`
    : `retract ${hex(body.value.target)} (${retractReasonName(body.value.reason)})`;
  const retracted = view.retractedBy.length > 0 ? ` (retracted by ${hex(view.retractedBy)})` : "";
  return `${view.logIndex}  ${statement.submitter}  ${what}  id ${hex(view.statementId)}${retracted}`;
}

export function addReadCommands(program: Command): void {
  program
    .command("checkpoint")
    .description("print the latest cosigned checkpoint exactly as signed (a C2SP signed note)")
    .option("--node <host:port>", "a node's Log service", "127.0.0.1:7401")
    .action(async (options: { node: string }) => {
      const connection = connectLog(options.node);
      process.stdout.write((await call(connection, connection.client.getCheckpoint, {})).checkpoint);
    });
  memberConnectionOptions(program.command("status").description("where the node's log stands")).action(
    async (options: MemberAccess & { node: string; json?: boolean }) => {
      const connection = connectMember(options.node, options);
      const status = await call(connection, connection.client.status, {});
      if (options.json) return print(toJson({ ...status, federationId: hex(status.federationId) }));
      print(`${status.member} (hashfed ${status.version}, ${status.participation}), federation ${hex(status.federationId)} origin ${status.origin}`);
      print(`log size ${status.treeSize} at height ${status.height}: ${status.liveSignals} live signals, ${status.retractions} retractions, ${status.pendingStatements} pending`);
      const others = status.peersConnected.length === 0 ? "none" : status.peersConnected.join(", ");
      const lastCommit = status.lastCommitMsAgo === undefined ? "none since the node started" : `${(Number(status.lastCommitMsAgo) / 1000).toFixed(1)} s ago`;
      print(`peers connected: ${others}; last commit ${lastCommit}`);
    },
  );
  memberConnectionOptions(
    program
      .command("entry")
      .description("show one committed entry with its reveal")
      .option("--index <n>", "log index", nonNegativeBigInteger)
      .option("--id <statement-id>", "statement id (hex)", statementIdHex),
  ).action(async (options: MemberAccess & { node: string; json?: boolean; index?: bigint; id?: StatementId }, command: Command) => {
    if ((options.index === undefined) === (options.id === undefined)) command.error("error: give exactly one of --index or --id");
    const connection = connectMember(options.node, options);
    const key = options.index !== undefined
      ? { $case: "logIndex" as const, value: options.index }
      : { $case: "statementId" as const, value: options.id! };
    const view = await call(connection, connection.client.getEntry, { key });
    print(options.json ? toJson(view) : describeEntry(view));
  });
  memberConnectionOptions(
    program
      .command("follow")
      .description("stream committed entries with reveals from an index on, then new ones as they commit")
      // A bigint default needs its own text: --help prints defaults with JSON.stringify.
      .addOption(new Option("--from <n>", "first log index").argParser(nonNegativeBigInteger).default(0n, "0")),
  ).action((options: MemberAccess & { node: string; json?: boolean; from: bigint }) => {
    const connection = connectMember(options.node, options);
    const stream = connection.client.follow({ fromIndex: options.from }, connection.metadata);
    return new Promise<void>((resolve, reject) => {
      stream.on("data", (view: EntryView) => print(options.json ? JSON.stringify(JSON.parse(toJson(view))) : describeEntry(view)));
      stream.on("error", reject);
      stream.on("end", resolve);
    });
  });
}
