import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { assertNever } from "../../src/assert";
import { ProofError, verifyConsistency, verifyInclusion, verifySubtreeConsistency, verifySubtreeInclusion } from "../../src/log/verify";

/**
 * Goal: the verifiers agree with every upstream probe (transparency-dev/merkle testdata, shared with this
 * project under ../shared/vectors/merkle): each happy path verifies and each mutant is refused with a
 * ProofError, never with another kind of exception. Method: walk the four directories and run one test per
 * file, named by its path and description. The files are read in place, never copied.
 */

const VECTORS_ROOT = path.resolve(__dirname, "../..", "../shared/vectors/merkle");
const KINDS = ["inclusion", "consistency", "subtreeinclusion", "subtreeconsistency"] as const;
type VectorKind = (typeof KINDS)[number];

interface VectorFile {
  readonly kind: VectorKind;
  readonly relativePath: string;
  readonly fields: Record<string, unknown>;
}

function jsonFilesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const entryPath = path.join(directory, entry.name);
      if (entry.isDirectory()) return jsonFilesUnder(entryPath);
      return entry.name.endsWith(".json") ? [entryPath] : [];
    })
    .sort();
}

/**
 * Indexes reach 2^64 - 1 (a "leafIdx - 1" mutant of 0 wraps around in Go), beyond a double's 2^53, so
 * every integer value is turned into a string before JSON.parse sees it, and read back as a bigint.
 */
function parseWithBigIntegers(text: string): Record<string, unknown> {
  return JSON.parse(text.replace(/("[A-Za-z0-9]+"\s*:\s*)(-?\d+)(?=\s*[,}])/g, '$1"$2"')) as Record<string, unknown>;
}

function loadVectors(): VectorFile[] {
  return KINDS.flatMap((kind) =>
    jsonFilesUnder(path.join(VECTORS_ROOT, kind)).map((file) => ({
      kind,
      relativePath: path.relative(VECTORS_ROOT, file),
      fields: parseWithBigIntegers(readFileSync(file, "utf8")),
    })),
  );
}

function integer(fields: Record<string, unknown>, name: string): bigint {
  const value = fields[name];
  if (typeof value !== "string") throw new Error(`vector field ${name} is not an integer: ${JSON.stringify(value)}`);
  return BigInt(value);
}

function bytes(fields: Record<string, unknown>, name: string): Buffer {
  const value = fields[name];
  if (typeof value !== "string") throw new Error(`vector field ${name} is not base64: ${JSON.stringify(value)}`);
  return Buffer.from(value, "base64");
}

/** Some happy paths with an empty proof write it as null. */
function proofOf(fields: Record<string, unknown>): Buffer[] {
  const proof = fields.proof;
  if (proof === null) return [];
  if (!Array.isArray(proof)) throw new Error(`vector proof is neither null nor an array: ${JSON.stringify(proof)}`);
  return proof.map((element: unknown) => Buffer.from(String(element), "base64"));
}

function verifyVector({ kind, fields }: VectorFile): void {
  const proof = proofOf(fields);
  switch (kind) {
    case "inclusion":
      return verifyInclusion(
        integer(fields, "leafIdx"),
        integer(fields, "treeSize"),
        bytes(fields, "leafHash"),
        proof,
        bytes(fields, "root"),
      );
    case "consistency":
      return verifyConsistency(integer(fields, "size1"), integer(fields, "size2"), bytes(fields, "root1"), bytes(fields, "root2"), proof);
    case "subtreeinclusion":
      // leafIdx is absolute (a leaf of the whole tree), not relative to start.
      return verifySubtreeInclusion(
        integer(fields, "leafIdx"),
        integer(fields, "start"),
        integer(fields, "end"),
        bytes(fields, "leafHash"),
        proof,
        bytes(fields, "root"),
      );
    case "subtreeconsistency":
      // root1 is the subtree's hash, root2 the root of the tree of `size` leaves.
      return verifySubtreeConsistency(
        integer(fields, "start"),
        integer(fields, "end"),
        integer(fields, "size"),
        bytes(fields, "root1"),
        bytes(fields, "root2"),
        proof,
      );
    default:
      return assertNever(kind);
  }
}

const vectors = loadVectors();

test("the vector directories are found and hold every kind of probe", () => {
  for (const kind of KINDS) {
    expect(vectors.filter((vector) => vector.kind === kind).length).toBeGreaterThan(90);
  }
});

describe.each(KINDS)("%s vectors", (kind) => {
  const ofKind = vectors.filter((vector) => vector.kind === kind);
  test.each(ofKind.map((vector) => [`${vector.relativePath}: ${String(vector.fields.desc)}`, vector] as const))("%s", (_name, vector) => {
    if (vector.fields.wantErr === true) {
      expect(() => verifyVector(vector)).toThrow(ProofError);
    } else {
      expect(vector.fields.wantErr).toBe(false);
      expect(() => verifyVector(vector)).not.toThrow();
    }
  });
});
