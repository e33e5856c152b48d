/**
 * Goal: the store's keys hold their numbers as big-endian u64s whatever their size, so that keys
 * sort in log order and a store written before reads the same; numbers outside u64 are refused.
 * Method: keys of numbers at every boundary and of random ones, against writeBigUInt64BE.
 */
import fc from "fast-check";
import { AssertionError } from "../../src/assert";
import { KeyPrefix, nodeKey, numberKey } from "../../src/store/keys";

const u64 = (value: bigint): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return bytes;
};
const boundaries = [0n, 1n, 255n, 256n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];

test("numberKey and nodeKey write the prefix, the level, and the number as a big-endian u64", () => {
  for (const value of boundaries) {
    expect(numberKey(KeyPrefix.Entry, value)).toEqual(Buffer.concat([Buffer.from([KeyPrefix.Entry]), u64(value)]));
    expect(nodeKey(7, value)).toEqual(Buffer.concat([Buffer.from([KeyPrefix.Node, 7]), u64(value)]));
  }
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 54n }), (any, small) => {
      expect(numberKey(KeyPrefix.Batch, any).subarray(1)).toEqual(u64(any));
      expect(numberKey(KeyPrefix.Batch, small).subarray(1)).toEqual(u64(small));
    }),
  );
});

test("keys sort as their numbers do", () => {
  const sorted = [...boundaries].map((value) => numberKey(KeyPrefix.Summary, value));
  expect([...sorted].sort(Buffer.compare)).toEqual(sorted);
});

test("a number outside u64 is refused", () => {
  expect(() => numberKey(KeyPrefix.Entry, -1n)).toThrow(AssertionError);
  expect(() => numberKey(KeyPrefix.Entry, 2n ** 64n)).toThrow(AssertionError);
  expect(() => nodeKey(0, 2n ** 64n)).toThrow(AssertionError);
});
