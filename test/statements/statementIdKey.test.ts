/**
 * Goal: statementIdKey names ids in Maps and Sets, so two different ids (or an id and any other
 * byte string) never get the same key, and the same bytes always do, Buffer or plain view alike; a
 * parsed statement's own key is the same.
 */
import fc from "fast-check";
import { parseLogEntryLeaf, parseSignedStatement, statementIdKey, trustedSignedStatement } from "../../src/statements";
import { federationFixture, StatementMaker } from "../support/statements";

test("different byte strings get different keys, equal ones the same", () => {
  const bytes = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }));
  fc.assert(
    fc.property(bytes, bytes, (a, b) => {
      expect(statementIdKey(a) === statementIdKey(b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
    }),
    { numRuns: 2000 },
  );
});

test("ids that differ in one bit get different keys; a view and a Buffer of the same bytes the same key", () => {
  const id = Buffer.alloc(32, 0xa5);
  const keys = new Set<string>([statementIdKey(id)]);
  for (let bit = 0; bit < 256; bit++) {
    const flipped = Buffer.from(id);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    keys.add(statementIdKey(flipped));
  }
  expect(keys.size).toBe(257);
  const backing = new Uint8Array(40).fill(0xa5);
  expect(statementIdKey(backing.subarray(4, 36))).toBe(statementIdKey(id));
  // 16 bytes that pair up like an id's key would, had short inputs been read as pairs too.
  expect(statementIdKey(new Uint8Array(16))).not.toBe(statementIdKey(new Uint8Array(32)));
});

test("a parsed statement's key is its id's, however it was parsed, and does not make two parses of one statement differ", () => {
  const fixture = federationFixture({ validatorCount: 1 });
  const { signed } = new StatementMaker(fixture.federation, "id-key").add(fixture.validators[0]!.key);
  const parses = [parseSignedStatement(signed.bytes, signed.signature), parseLogEntryLeaf(signed.entryBytes), trustedSignedStatement(signed.bytes, signed.signature)];
  const untouched = parseSignedStatement(signed.bytes, signed.signature);
  for (const parsed of parses) {
    expect(parsed.key).toBe(statementIdKey(signed.id));
    expect(parsed.key).toBe(parsed.key);
    expect(parsed).toEqual(untouched);
  }
});
