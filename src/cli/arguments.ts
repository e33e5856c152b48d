import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidArgumentError } from "commander";
import { HashfedError } from "../errors";
import { checkAddress } from "../federation/address";
import { parseStatementId, type StatementId } from "../statements";

/** A commander parser for a non-negative decimal integer option; anything else is a usage error (exit 2). */
export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`expected a non-negative whole number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** A commander parser for a whole number of at least 1. */
export function positiveInteger(value: string): number {
  const parsed = nonNegativeInteger(value);
  if (parsed === 0) throw new InvalidArgumentError("expected a whole number of at least 1, got 0");
  return parsed;
}

/** The longest wait a --timeout may ask for: a day (gRPC refuses deadlines far in the future with an error of its own). */
const TIMEOUT_MS_MAX = 24 * 60 * 60 * 1000;

/** A commander parser for a --timeout in milliseconds: from 1 to a day. */
export function timeoutMs(value: string): number {
  const parsed = positiveInteger(value);
  if (parsed > TIMEOUT_MS_MAX) throw new InvalidArgumentError(`expected at most ${TIMEOUT_MS_MAX} ms (a day), got ${value}`);
  return parsed;
}

/** The same for 64-bit log indexes and tree sizes. */
export function nonNegativeBigInteger(value: string): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) >= 1n << 64n) {
    throw new InvalidArgumentError(`expected a non-negative whole number below 2^64, got ${JSON.stringify(value)}`);
  }
  return BigInt(value);
}

/** A commander parser for a statement id in hex: anything else is a usage error (exit 2). */
export function statementIdHex(value: string): StatementId {
  try {
    return parseStatementId(value, "the statement id");
  } catch (error) {
    if (!(error instanceof HashfedError)) throw error;
    throw new InvalidArgumentError(error.message);
  }
}

/** A commander parser for a listening address, host:port, checked as a federation file's addresses are. */
export function hostAndPort(value: string): string {
  try {
    checkAddress(value, value);
  } catch (error) {
    if (!(error instanceof HashfedError)) throw error;
    throw new InvalidArgumentError(error.message);
  }
  return value;
}

/**
 * Checks, before anything is written, that files can be written where asked: distinct paths, in
 * folders that exist, and none there already unless --force was given (a command that writes two
 * files had written the first and then failed on the second, or written one over the other).
 */
export function checkWritable(paths: readonly (string | undefined)[], force: boolean | undefined): void {
  const given = paths.filter((path): path is string => path !== undefined);
  for (const [position, path] of given.entries()) {
    const same = given.slice(0, position).find((earlier) => resolve(earlier) === resolve(path));
    if (same !== undefined) throw new HashfedError("invalid", "FILES_THE_SAME", `${same} and ${path} are the same file; give two different files`);
    if (!existsSync(dirname(resolve(path)))) throw new HashfedError("not-found", "FOLDER_MISSING", `cannot write ${path}: the folder ${dirname(path)} does not exist`);
    if (force !== true && existsSync(path)) throw new HashfedError("exists", "FILE_EXISTS", `${path} exists; pass --force to overwrite it`);
  }
}
