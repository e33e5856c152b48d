import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { readPrivateKeyFile, readTokenFile } from "../../crypto";
import { parseFederation } from "../../federation";
import { HashfedNode } from "../../node/hashfedNode";
import { readMemberTls } from "../../node/memberTls";
import { hostAndPort } from "../arguments";
import { print } from "../output";

interface NodeCommandOptions {
  key: string;
  federation: string;
  data: string;
  memberListen: string;
  listen?: string;
  memberTokenFile?: string;
  memberMatchTokenFile?: string;
  memberTlsCert?: string;
  memberTlsKey?: string;
}

export function addNodeCommand(program: Command): void {
  program
    .command("node")
    .description("run this member's node")
    .requiredOption("--key <file>", "the member's private key file")
    .requiredOption("--federation <file>", "the federation file")
    .requiredOption("--data <folder>", "where the node keeps its log (created if missing)")
    .option("--member-listen <host:port>", "Member service address (loopback unless a token and TLS are set)", hostAndPort, "127.0.0.1:7400")
    .option("--listen <host:port>", "Log and Peer services address (default: this member's address in the federation file)", hostAndPort)
    .option("--member-token-file <file>", "require `authorization: Bearer <token>` on the Member service (a file of mode 0600, 16+ characters)")
    .option("--member-match-token-file <file>", "also accept this token on the Member service, for Match and Status only (for scanners; a file of mode 0600)")
    .option("--member-tls-cert <file>", "serve the Member service over TLS with this PEM certificate chain (required off loopback)")
    .option("--member-tls-key <file>", "the PEM private key of --member-tls-cert (a file of mode 0600)")
    .action(async (options: NodeCommandOptions, command: Command) => {
      if ((options.memberTlsCert === undefined) !== (options.memberTlsKey === undefined)) command.error("error: give both --member-tls-cert and --member-tls-key, or neither");
      const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const node = await HashfedNode.start({
        dataDir: options.data,
        federation: parseFederation(readFileSync(options.federation, "utf8")),
        key: await readPrivateKeyFile(options.key),
        memberAddress: options.memberListen,
        publicAddress: options.listen,
        memberToken: options.memberTokenFile === undefined ? undefined : await readTokenFile(options.memberTokenFile),
        matchOnlyToken: options.memberMatchTokenFile === undefined ? undefined : await readTokenFile(options.memberMatchTokenFile),
        memberTls: options.memberTlsCert === undefined ? undefined : readMemberTls(options.memberTlsCert, options.memberTlsKey!),
        peerKeyLog: process.env.HASHFED_PEER_KEY_LOG || undefined,
        log,
      });
      print(`hashfed node ready: member port ${node.memberPort}, log port ${node.publicPort}`);
      const stop = (signal: string): void => {
        log(`${signal}: stopping`);
        node.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log(`error while stopping: ${String(error)}`);
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
}
