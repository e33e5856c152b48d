import { HashfedError, invalid } from "../errors";

/**
 * Helpers for validating the federation file. Every error is FEDERATION_INVALID with a message that
 * starts with the field path ("members[2].key: ..."), so the person editing the file can go straight
 * to the mistake.
 */
export const FEDERATION_INVALID = "FEDERATION_INVALID";

/** The name used for the whole file in messages, where a field path would be empty. */
const ROOT = "the federation file";

/** How many characters of a value a message quotes. */
const DESCRIBE_CHARS_MAX = 60;

export function fieldError(path: string, message: string): HashfedError {
  return invalid(FEDERATION_INVALID, `${path === "" ? ROOT : path}: ${message}`);
}

/** `parent.name`, or `parent["odd name"]` (cut short) for a name that is not a plain word. */
export function fieldPath(parent: string, name: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return parent === "" ? name : `${parent}.${name}`;
  const shown = name.length <= DESCRIBE_CHARS_MAX ? name : `${name.slice(0, DESCRIBE_CHARS_MAX)}...`;
  return `${parent}[${JSON.stringify(shown)}]`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** A short description of a JSON value for "got ..." in messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length <= DESCRIBE_CHARS_MAX ? text : `${text.slice(0, DESCRIBE_CHARS_MAX)}...`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Checks that `value` is an object with every required field and no field outside `required` and
 * `optional`: a misspelt field must be an error, not silently ignored.
 */
export function objectFields(
  value: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (!isPlainObject(value)) throw fieldError(path, `must be a JSON object, got ${describe(value)}`);
  const known = [...required, ...optional];
  for (const name of Object.keys(value)) {
    if (!known.includes(name)) {
      throw fieldError(fieldPath(path, name), `unknown field${didYouMean(name, known)}; the fields are ${known.join(", ")}`);
    }
  }
  for (const name of required) {
    if (value[name] === undefined) throw fieldError(fieldPath(path, name), "is required");
  }
  return value;
}

export function expectString(value: unknown, path: string): string {
  if (typeof value !== "string") throw fieldError(path, `must be a string, got ${describe(value)}`);
  return value;
}

export function expectArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw fieldError(path, `must be an array, got ${describe(value)}`);
  return value;
}

export function expectInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw fieldError(path, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

/**
 * " (did you mean "x"?)" when a candidate is close to `name`, otherwise "". Close means equal but for
 * case, or within one edit per four characters (two at most), so short names do not draw guesses.
 */
export function didYouMean(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    // Names that differ in length by more than the allowed edits cannot be close: skip the work.
    if (Math.abs(candidate.length - name.length) >= bestDistance) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? "" : ` (did you mean ${JSON.stringify(best)}?)`;
}

/** Levenshtein distance; called only on names of similar, short lengths (fields, labels). */
function editDistance(source: string, target: string): number {
  let previous = Array.from({ length: target.length + 1 }, (_, index) => index);
  for (let i = 1; i <= source.length; i++) {
    const current = [i];
    for (let j = 1; j <= target.length; j++) {
      const substitution = previous[j - 1]! + (source[i - 1] === target[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[target.length]!;
}
