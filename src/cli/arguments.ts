import { existsSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { HashfedError } from "../errors";

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

/** The same for 64-bit log indexes and tree sizes. */
export function nonNegativeBigInteger(value: string): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) >= 1n << 64n) {
    throw new InvalidArgumentError(`expected a non-negative whole number below 2^64, got ${JSON.stringify(value)}`);
  }
  return BigInt(value);
}

/** Refuses to replace existing files unless --force was given, before anything is written. */
export function checkWritable(paths: readonly (string | undefined)[], force: boolean | undefined): void {
  if (force === true) return;
  for (const path of paths) {
    if (path !== undefined && existsSync(path)) {
      throw new HashfedError("exists", "FILE_EXISTS", `${path} exists; pass --force to overwrite it`);
    }
  }
}
