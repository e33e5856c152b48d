import { type HashfedError, invalid } from "../errors";
import { HASH_BYTES } from "../log";
import { UINT64_MAX } from "../log/preconditions";

/**
 * Reading the auditor's JSON documents (its state file, fork evidence) strictly. They come from disk
 * or from somebody else, so they are untrusted: every problem is a HashfedError with the document's
 * own code and a message that starts with the field path, and no field outside the known ones is
 * accepted, so a misspelt field cannot pass for an absent one.
 */
export class DocumentFields {
  constructor(
    /** How messages name the document, e.g. "the fork evidence". */
    private readonly document: string,
    private readonly code: string,
  ) {}

  error(path: string, message: string): HashfedError {
    return invalid(this.code, `${this.document}${path === "" ? "" : `, ${path}`}: ${message}`);
  }

  parse(text: string, charactersMax: number): unknown {
    if (text.length > charactersMax) throw this.error("", `is ${text.length} characters, more than the ${charactersMax} allowed`);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw this.error("", `is not JSON: ${(error as Error).message}`);
    }
  }

  object(value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw this.error(path, "must be a JSON object");
    const fields = value as Record<string, unknown>;
    const known = [...required, ...optional];
    for (const name of Object.keys(fields)) {
      if (!known.includes(name)) throw this.error(path, `has an unknown field ${JSON.stringify(name)}; the fields are ${known.join(", ")}`);
    }
    for (const name of required) {
      if (fields[name] === undefined) throw this.error(join(path, name), "is required");
    }
    return fields;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") throw this.error(path, "must be a string");
    return value;
  }

  array(value: unknown, path: string, lengthMax: number): readonly unknown[] {
    if (!Array.isArray(value)) throw this.error(path, "must be an array");
    if (value.length > lengthMax) throw this.error(path, `holds ${value.length} items, more than ${lengthMax}`);
    return value;
  }

  /** A 64-bit size or index written as a decimal string without leading zeros. */
  uint64(value: unknown, path: string): bigint {
    const text = this.string(value, path);
    if (!/^(0|[1-9][0-9]{0,19})$/.test(text) || BigInt(text) > UINT64_MAX) {
      throw this.error(path, `must be a decimal number from 0 to 2^64 - 1 in a string, got ${JSON.stringify(text.slice(0, 30))}`);
    }
    return BigInt(text);
  }

  /** A SHA-256 hash in canonical standard base64. */
  hash(value: unknown, path: string): Buffer {
    const text = this.string(value, path);
    const bytes = Buffer.from(text, "base64");
    if (bytes.length !== HASH_BYTES || bytes.toString("base64") !== text) {
      throw this.error(path, `must be a ${HASH_BYTES}-byte hash in canonical base64`);
    }
    return bytes;
  }

  /** Bytes in lower-case hex, exactly `length` of them. */
  hex(value: unknown, path: string, length: number): Buffer {
    const text = this.string(value, path);
    if (!new RegExp(`^[0-9a-f]{${2 * length}}$`).test(text)) throw this.error(path, `must be ${length} bytes in lower-case hex`);
    return Buffer.from(text, "hex");
  }
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}
