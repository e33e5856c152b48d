import { readFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import type { Command } from "commander";
import { invalid } from "../../errors";
import type { MatchQuery, MatchResult } from "../../gen/hashfed/v1/member";
import { nonNegativeInteger } from "../arguments";
import { hex, print, toJson } from "../output";
import { call, connectMember, errorCodeOf, isRpcError, type MemberAccess } from "../../client/rpc";
import { MATCH_TOO_MANY_MATCHES } from "../../node/matchQueries";
import { memberConnectionOptions } from "./submit";

/** Queries per Match call when matching a file: well under the node's limit, so one call stays short. */
const QUERIES_PER_CALL = 1000;

interface MatchOptions extends MemberAccess {
  node: string;
  json?: boolean;
  type?: string;
  value?: string;
  file?: string;
  distance?: number;
  dihedral?: boolean;
  quality?: number;
  proof?: boolean;
}

/**
 * The queries of a file: one hash per line, as `TYPE HEX` or as `HEX` with --type; blank lines and
 * lines starting with # are skipped. A line that is neither is an error naming the line.
 */
function queriesOfFile(file: string, options: MatchOptions): { queries: MatchQuery[]; lines: number[] } {
  const queries: MatchQuery[] = [];
  const lines: number[] = [];
  readFileSync(file === "-" ? 0 : file, "utf8")
    .split(/\r?\n/)
    .forEach((line, i) => {
      const fields = line.trim().split(/\s+/);
      if (fields[0] === "" || fields[0]!.startsWith("#")) return;
      const [type, value] = fields.length === 2 ? fields : [options.type, fields[0]];
      if (fields.length > 2 || type === undefined) {
        throw invalid("MATCH_FILE_LINE", `${file} line ${i + 1}: expected "TYPE HEX", or "HEX" with --type, got ${JSON.stringify(line.slice(0, 120))}`);
      }
      queries.push(query(type, value!, options));
      lines.push(i + 1);
    });
  return { queries, lines };
}

/**
 * The node names a bad query by its place in the call ("queries[300]: ..."), which says nothing to
 * whoever wrote the file: the error names the file's line instead.
 */
function atFileLine(error: unknown, file: string, lines: readonly number[], callStart: number): unknown {
  if (!isRpcError(error) || error.code !== status.INVALID_ARGUMENT) return error;
  const place = /^queries\[(\d+)\]: (.*)$/s.exec(error.details);
  const line = place === null ? undefined : lines[callStart + Number(place[1])];
  return line === undefined ? error : invalid(errorCodeOf(error) ?? "MATCH_QUERY_INVALID", `${file} line ${line}: ${place![2]}`);
}

function query(signalType: string, value: string, options: MatchOptions): MatchQuery {
  const pdq = signalType === "pdq";
  return { signalType, value, distanceMax: options.distance, dihedral: pdq && options.dihedral === true ? true : undefined, quality: pdq ? options.quality : undefined };
}

/** One hash's result for people, as the single-hash form always printed it. */
function printResult(result: MatchResult): void {
  if (result.lowQuality) return print("not matched: the quality is below the federation's minimum");
  if (result.matches.length === 0) return print("no match");
  for (const match of result.matches) {
    const variant = match.variant === "" ? "" : ` (as ${match.variant})`;
    print(`match at log index ${match.logIndex}: distance ${match.distance}${variant}, ${match.signalType} by ${match.submitter}, labels ${match.labels.join(", ")}`);
    print(`  statement ${hex(match.statementId)}`);
  }
  if (result.truncated) print("more matches than shown; the closest are listed");
}

/** Many hashes' results for people: a table, one row per match (or per hash without one). */
function printTable(queries: readonly MatchQuery[], results: readonly MatchResult[]): void {
  print(["query", "log index", "distance", "variant", "type", "submitter", "labels", "statement"].join("\t"));
  results.forEach((result, i) => {
    const { value, signalType } = queries[i]!;
    if (result.lowQuality) return print([value, "-", "-", "-", signalType, "-", "not matched: quality below the minimum", "-"].join("\t"));
    if (result.matches.length === 0) return print([value, "-", "-", "-", signalType, "-", "no match", "-"].join("\t"));
    for (const match of result.matches) {
      print([value, match.logIndex, match.distance, match.variant || "-", match.signalType, match.submitter, match.labels.join(","), hex(match.statementId)].join("\t"));
    }
  });
}

/**
 * The JSON answer: the results and the last call's checkpoint. A result with matches from an earlier
 * call names its own checkpoint, which its proofs are against (a proof does not verify against a
 * later checkpoint); the others would only repeat the note.
 */
function matchJson(queries: readonly MatchQuery[], results: readonly MatchResult[], checkpoints: readonly string[]): object {
  const checkpoint = checkpoints[checkpoints.length - 1] ?? "";
  return {
    results: results.map((result, i) => ({ query: queries[i], ...result, ...(result.matches.length > 0 && checkpoints[i] !== checkpoint ? { checkpoint: checkpoints[i] } : {}) })),
    checkpoint,
  };
}

export function addMatchCommand(program: Command): void {
  memberConnectionOptions(
    program
      .command("match")
      .description("match hashes against the list: exact for md5 and sha256, within a Hamming distance for pdq; one with --value or many with --file")
      .option("--type <type>", "pdq, md5 or sha256 (with --value, or for the lines of --file that give no type)")
      .option("--value <hex>", "the hash in hex")
      .option("--file <file>", "hashes to match, one per line as `TYPE HEX` or `HEX` (with --type); - reads stdin")
      .option("--distance <n>", "pdq: largest distance to report (default: the federation's)", nonNegativeInteger)
      .option("--dihedral", "pdq: also match the image turned and flipped")
      .option("--quality <n>", "pdq: the query hashes' quality; below the federation's minimum they are not matched", nonNegativeInteger)
      .option("--proof", "attach inclusion proofs against the current checkpoint"),
  ).action(async (options: MatchOptions, command: Command) => {
    if ((options.value === undefined) === (options.file === undefined)) command.error("error: give either --value (with --type) or --file");
    if (options.value !== undefined && options.type === undefined) command.error("error: --value needs --type");
    // For a file they apply to its pdq lines; for one hash of another type they would be dropped unsaid.
    if (options.value !== undefined && options.type !== "pdq" && (options.dihedral === true || options.quality !== undefined)) {
      command.error(`error: --dihedral and --quality apply to pdq hashes only, not to ${options.type}`);
    }
    const { queries, lines } = options.file !== undefined ? queriesOfFile(options.file, options) : { queries: [query(options.type!, options.value!, options)], lines: [] };
    const connection = connectMember(options.node, options);
    const results: MatchResult[] = [];
    // The checkpoint each result's call answered against: a file takes several calls, and the log may grow between them.
    const checkpoints: string[] = [];
    // Queries that match more than one answer holds are sent again in halves (one query always fits).
    for (let start = 0, size = QUERIES_PER_CALL; start < queries.length; ) {
      const response = await call(connection, connection.client.match, { queries: queries.slice(start, start + size), includeProof: options.proof === true }).catch((error: unknown) => {
        if (size > 1 && errorCodeOf(error) === MATCH_TOO_MANY_MATCHES) return undefined;
        throw options.file === undefined ? error : atFileLine(error, options.file, lines, start);
      });
      if (response === undefined) {
        size = Math.ceil(size / 2);
        continue;
      }
      results.push(...response.results);
      checkpoints.push(...response.results.map(() => response.checkpoint));
      start += size;
      // One crowded stretch of the file should not make every later call small.
      size = Math.min(QUERIES_PER_CALL, size * 2);
    }
    connection.client.close();
    if (options.json) return print(toJson(matchJson(queries, results, checkpoints)));
    if (options.file !== undefined) printTable(queries, results);
    else printResult(results[0]!);
  });
}
