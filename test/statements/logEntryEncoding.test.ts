/**
 * Goal: a statement's leaf built by encodeLogEntry is byte for byte what the generated encoder
 * writes for the LogEntry, whatever the lengths (varint lengths of one to three bytes, empty fields
 * left out as proto3 leaves them out), and the statement and signature it hands back are its bytes.
 * Method: a differential test against LogEntry.encode over arbitrary byte strings.
 */
import fc from "fast-check";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { encodeLogEntry } from "../../src/statements/canonicalStatement";

const lengths = fc.oneof(fc.constantFrom(0, 1, 127, 128, 300, 16_383, 16_384), fc.integer({ min: 0, max: 2_000 }));
// The bytes themselves only need to differ from place to place: a pattern from a seed is enough, and fast.
const bytesOf = (length: number) => fc.integer({ min: 1, max: 255 }).map((seed) => Buffer.from(Array.from({ length }, (_, i) => (i * seed + (i >> 8)) & 0xff)));

test("encodeLogEntry writes what LogEntry.encode writes, and views the inputs in it", () => {
  fc.assert(
    fc.property(lengths.chain(bytesOf), lengths.chain(bytesOf), (statement, signature) => {
      const encoded = encodeLogEntry(statement, signature);
      // Buffer.equals: jest's toEqual walks long buffers byte by byte, slowly.
      expect(encoded.entryBytes.equals(LogEntry.encode({ statement, signature }).finish())).toBe(true);
      expect(encoded.statement.equals(statement)).toBe(true);
      expect(encoded.signature.equals(signature)).toBe(true);
      expect(encoded.statement.buffer).toBe(encoded.entryBytes.buffer);
    }),
    { numRuns: 200 },
  );
});
