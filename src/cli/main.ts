import { Command, CommanderError } from "commander";
import { HashfedError } from "../errors";
import { addAuditCommands } from "./commands/audit";
import { addDemoCommand } from "./commands/demo";
import { addFederationCommands } from "./commands/federation";
import { addKeygenCommand } from "./commands/keygen";
import { addMatchCommand } from "./commands/match";
import { addNodeCommand } from "./commands/node";
import { addProofCommands } from "./commands/proof";
import { addReadCommands } from "./commands/read";
import { addSubmitCommands } from "./commands/submit";
import { addVerifyCommands } from "./commands/verify";
import { describeRpcError, isRpcError } from "../client/rpc";
import { packageVersion } from "../node/projectFiles";

// grpc-js gives TLS the node's address as the server's name, an IP address when the node is given
// by one, and Node then warns on stderr, once a run, that RFC 6066 forbids an IP address there
// (DEP0123): nothing a user can act on, as the certificate is still checked against that address.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (rest[1] === "DEP0123") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

// A reader that stops reading (`hashfed federation show f.json | head -1`) closes the pipe: the
// rest of the output is not wanted, which is no error (a write's EPIPE had ended in a stack trace).
// The command still ends with its own exit code: a verification's verdict is in it.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
});

/**
 * Exit codes: 0 success (for verify: valid); 1 an error or a failed verification, with the reason
 * on stderr; 2 a usage error. `hashfed audit` adds 3 (a proven fork) and 4 (incomplete), see its help.
 */
const program = new Command("hashfed")
  .description("hashfed: a federation sharing hashes of terrorist and violent-extremist content over a verifiable, BFT-replicated log")
  .version(packageVersion())
  // A command's options go after its name and before its subcommand's, so that `audit` and
  // `audit verify-evidence` can both take --federation.
  .enablePositionalOptions()
  .exitOverride();

addKeygenCommand(program);
addFederationCommands(program);
addNodeCommand(program);
addSubmitCommands(program);
addMatchCommand(program);
addReadCommands(program);
addProofCommands(program);
addVerifyCommands(program);
addAuditCommands(program);
addDemoCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  process.stderr.write(`hashfed: ${describe(error)}\n`);
  process.exit(1);
});

/** One line for a person; the stack only for an internal error and only with HASHFED_DEBUG=1. */
function describe(error: unknown): string {
  if (error instanceof HashfedError) return error.message;
  if (isRpcError(error)) return describeRpcError(error);
  if (isSystemError(error)) return error.message;
  const internal = error instanceof Error ? error : new Error(String(error));
  return process.env.HASHFED_DEBUG === "1" ? (internal.stack ?? internal.message) : `internal error: ${internal.message} (HASHFED_DEBUG=1 shows where)`;
}

/** Errors from the operating system (a missing file, a refused connection) carry a string code like ENOENT. */
function isSystemError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}
