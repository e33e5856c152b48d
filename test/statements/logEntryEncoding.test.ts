/**
 * Goal: a statement's leaf built by encodeLogEntry is byte for byte what the generated encoder
 * writes for the LogEntry, whatever the lengths (varint lengths of one to three bytes, empty fields
 * left out as proto3 leaves them out), and the statement and signature it hands back are its bytes.
 * Method: a differential test against LogEntry.encode over arbitrary byte strings.
 */
import fc from "fast-check";
import { LogEntry } from "../../src/gen/hashfed/v1/statement";
import { encodeLogEntry } from "../../src/statements/canonicalStatement";

const lengths = fc.oneof(fc.constantFrom(0, 1, 127, 128, 300, 16_383, 16_384, 70_000), fc.integer({ min: 0, max: 2_000 }));
const bytesOf = (length: number) => fc.uint8Array({ minLength: length, maxLength: length }).map((array) => Buffer.from(array));

test("encodeLogEntry writes what LogEntry.encode writes, and views the inputs in it", () => {
  fc.assert(
    fc.property(lengths.chain(bytesOf), lengths.chain(bytesOf), (statement, signature) => {
      const encoded = encodeLogEntry(statement, signature);
      expect(encoded.entryBytes).toEqual(Buffer.from(LogEntry.encode({ statement, signature }).finish()));
      expect(encoded.statement).toEqual(statement);
      expect(encoded.signature).toEqual(signature);
      expect(encoded.statement.buffer).toBe(encoded.entryBytes.buffer);
    }),
    { numRuns: 300 },
  );
});
