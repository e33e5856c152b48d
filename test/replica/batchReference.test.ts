/**
 * Goal: a batch reference names each entry by statement id and signature, in order, and resolves
 * back to exactly those entries; one entry not held makes the whole reference unresolved; bytes
 * that cannot name a batch of this federation are refused with a code, never half-read.
 * Method: references of entries from the statement maker, resolved against a map of held entries.
 */
import type { BatchEntry } from "../../src/batch";
import { HashfedError } from "../../src/errors";
import { ENTRY_REFERENCE_BYTES, referenceOf, resolveReference } from "../../src/replica/batchReference";
import { statementIdKey } from "../../src/statements";
import { federationFixture, StatementMaker } from "../support/statements";

const fixture = federationFixture({ validatorCount: 2 });
const maker = new StatementMaker(fixture.federation, "batch-reference");
const entries: BatchEntry[] = [maker.add(fixture.validators[0]!.key), maker.add(fixture.validators[1]!.key), maker.add(fixture.validators[0]!.key)];
const header = Buffer.from("header bytes");

function heldIn(held: readonly BatchEntry[]) {
  const byId = new Map(held.map((entry) => [statementIdKey(entry.signed.id), entry]));
  return (id: Uint8Array, signature: Buffer): BatchEntry | undefined => {
    const entry = byId.get(statementIdKey(id));
    return entry?.signed.signature.equals(signature) ? entry : undefined;
  };
}

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof HashfedError) return error.code;
    throw error;
  }
  return undefined;
}

test("a reference holds each entry's id and signature in order, and resolves to the same entries in the same order", () => {
  const reference = referenceOf(header, entries);
  expect(reference.header).toBe(header);
  expect(reference.entries.length).toBe(entries.length * ENTRY_REFERENCE_BYTES);
  entries.forEach((entry, i) => {
    const at = i * ENTRY_REFERENCE_BYTES;
    expect(reference.entries.subarray(at, at + 32)).toEqual(entry.signed.id);
    expect(reference.entries.subarray(at + 32, at + ENTRY_REFERENCE_BYTES)).toEqual(entry.signed.signature);
  });
  expect(resolveReference(reference, 10, heldIn([...entries].reverse()))).toEqual(entries);
});

test("one entry not held, or held with another signature, leaves the reference unresolved", () => {
  const reference = referenceOf(header, entries);
  expect(resolveReference(reference, 10, heldIn(entries.slice(0, 2)))).toBeUndefined();
  const resigned = { ...entries[1]!, signed: { ...entries[1]!.signed, signature: Buffer.alloc(64, 1) } };
  expect(resolveReference(reference, 10, heldIn([entries[0]!, resigned, entries[2]!]))).toBeUndefined();
});

test("a reference that cannot name a batch is refused: bytes not a whole number of entries, no entry, or more than the federation allows", () => {
  const reference = referenceOf(header, entries);
  const everything = heldIn(entries);
  expect(code(() => resolveReference({ header, entries: reference.entries.subarray(1) }, 10, everything))).toBe("BATCH_REFERENCE_MALFORMED");
  expect(code(() => resolveReference({ header, entries: Buffer.alloc(0) }, 10, everything))).toBe("BATCH_REFERENCE_MALFORMED");
  expect(code(() => resolveReference(reference, entries.length - 1, everything))).toBe("BATCH_REFERENCE_MALFORMED");
  expect(code(() => resolveReference(reference, entries.length, everything))).toBeUndefined();
});
