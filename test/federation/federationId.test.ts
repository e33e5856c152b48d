import fc from "fast-check";
import { createHash } from "node:crypto";
import { AssertionError } from "../../src/assert";
import { canonicalJson, federationId, formatFederationFile, parseFederation } from "../../src/federation";
import { pilotFileValue, pilotSpec } from "./fixtures";

/**
 * Goal: the federation id names what the members agreed to, not how the file is laid out. Method:
 * reformat and reorder keys (the id must not move), change each value in turn (it must move), and
 * pin the canonical encoding on small examples.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The same value with every object's keys in a shuffled order, chosen by `order`. */
function reorderKeys(value: Json, order: (keys: string[]) => string[]): Json {
  if (Array.isArray(value)) return value.map((item) => reorderKeys(item, order));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(order(Object.keys(value)).map((key) => [key, reorderKeys(value[key]!, order)]));
}

/** Every way to change one leaf of `value`: each yields a copy that differs in one place. */
function leafChanges(value: Json, path: string[] = []): Array<{ path: string; changed: (root: Json) => Json }> {
  if (Array.isArray(value) || (value !== null && typeof value === "object")) {
    return Object.entries(value).flatMap(([key, child]) => leafChanges(child as Json, [...path, key]));
  }
  const change = (leaf: Json): Json => (typeof leaf === "number" ? leaf + 1 : typeof leaf === "string" ? `${leaf}x` : leaf === null ? 0 : !leaf);
  return [{ path: path.join("."), changed: (root) => replaceAt(root, path, change) }];
}

function replaceAt(root: Json, path: readonly string[], change: (leaf: Json) => Json): Json {
  if (path.length === 0) return change(root);
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(root)) return root.map((item, index) => (String(index) === head ? replaceAt(item, rest, change) : item));
  const record = root as Record<string, Json>;
  return { ...record, [head]: replaceAt(record[head]!, rest, change) };
}

describe("federation id", () => {
  const text = formatFederationFile(pilotSpec());
  const value = JSON.parse(text) as Json;
  const id = parseFederation(text).id;

  test("is SHA-256 of the canonical encoding of the file's value", () => {
    expect(id).toEqual(createHash("sha256").update(canonicalJson(value)).digest());
    expect(federationId(value)).toEqual(id);
  });

  test("does not change with whitespace or indentation", () => {
    for (const indent of [undefined, 0, 1, 4, "\t"]) {
      expect(parseFederation(JSON.stringify(value, null, indent)).id).toEqual(id);
    }
    expect(parseFederation(`\n\n  ${text.replace(/\n/g, "\r\n")}  \n`).id).toEqual(id);
  });

  test("does not change when object keys are reordered, at any depth", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const order = (keys: string[]): string[] => fc.sample(fc.shuffledSubarray(keys, { minLength: keys.length, maxLength: keys.length }), { seed, numRuns: 1 })[0]!;
        const reordered = JSON.stringify(reorderKeys(value, order), null, 2);
        expect(parseFederation(reordered).id).toEqual(id);
      }),
      { numRuns: 25 },
    );
    const reversed = JSON.stringify(reorderKeys(value, (keys) => [...keys].reverse()));
    expect(reversed).not.toBe(JSON.stringify(value));
    expect(parseFederation(reversed).id).toEqual(id);
  });

  test("changes when any single value changes", () => {
    const changes = leafChanges(value);
    expect(changes.length).toBeGreaterThan(30);
    for (const { path, changed } of changes) {
      // Most changed values are not valid files, so the id is computed on the value itself.
      expect({ path, same: federationId(changed(value)).equals(id) }).toEqual({ path, same: false });
    }
  });

  test("changes when the order of a list changes (members, labels)", () => {
    const file = pilotFileValue();
    const baseline = parseFederation(JSON.stringify(file)).id;
    expect(parseFederation(JSON.stringify({ ...file, members: [...file.members].reverse() })).id.equals(baseline)).toBe(false);
    const labels = [...(file.taxonomy.labels as string[])].reverse();
    expect(parseFederation(JSON.stringify({ ...file, taxonomy: { ...file.taxonomy, labels } })).id.equals(baseline)).toBe(false);
  });

  test("the parsed members are sorted whatever the file order, while the id follows the file", () => {
    const file = pilotFileValue();
    const a = parseFederation(JSON.stringify(file));
    const b = parseFederation(JSON.stringify({ ...file, members: [...file.members].reverse() }));
    expect(b.members.map((member) => member.name)).toEqual(a.members.map((member) => member.name));
  });
});

describe("canonicalJson", () => {
  test("sorts keys recursively, drops whitespace, keeps array order", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x", { d: 2, c: -0.5 }] })).toBe('{"a":[true,null,"x",{"c":-0.5,"d":2}],"b":1}');
    expect(canonicalJson(JSON.parse(' { "z" : [ 3 , 2 , 1 ] , "y" : { } } '))).toBe('{"y":{},"z":[3,2,1]}');
  });

  test("orders keys by UTF-16 code units, not code points", () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF61 in UTF-16 but after it by code point.
    expect(canonicalJson({ "\uff61": 1, "\u{1f600}": 2, a: 3, B: 4 })).toBe('{"B":4,"a":3,"\u{1f600}":2,"\uff61":1}');
  });

  test("writes numbers and strings as JSON.stringify does (1.0 is 1, escapes are normalised)", () => {
    expect(canonicalJson(JSON.parse('{"n": 1.0, "e": 1e2, "s": "\\u0061\\/"}'))).toBe('{"e":100,"n":1,"s":"a/"}');
  });

  test("anything that is not a JSON value is a programmer error", () => {
    expect(() => canonicalJson(undefined)).toThrow(AssertionError);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(AssertionError);
    expect(() => canonicalJson({ a: undefined })).toThrow(AssertionError);
    expect(() => canonicalJson(new Date(0))).toThrow(AssertionError);
    expect(() => canonicalJson(1n)).toThrow(AssertionError);
  });
});
