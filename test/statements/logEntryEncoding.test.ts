/**
 * Goal: a statement's leaf built by encodeLogEntry, and a reveal built by encodeReveal, are byte for
 * byte what the generated encoder writes, whatever the lengths (varint lengths of one to three
 * bytes, empty fields left out as proto3 leaves them out): the leaf is hashed into the tree and the
 * reveal into the batch header's digest, which every node and auditor must compute alike. The
 * statement and signature encodeLogEntry hands back are its bytes.
 * Method: differential tests against LogEntry.encode and Reveal.encode over arbitrary byte strings.
 */
import fc from "fast-check";
import { LogEntry, Reveal } from "../../src/gen/hashfed/v1/statement";
import { encodeLogEntry, encodeReveal } from "../../src/statements/canonicalStatement";

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

test("encodeReveal writes what Reveal.encode writes", () => {
  fc.assert(
    fc.property(lengths.chain(bytesOf), lengths.chain(bytesOf), (salt, value) => {
      expect(encodeReveal({ salt, value }).equals(Reveal.encode({ salt, value }).finish())).toBe(true);
    }),
    { numRuns: 200 },
  );
});
