import { AssertionError } from "../../src/assert";
import { faultTolerance, quorumSize, roundSkipSize } from "../../src/federation";

/**
 * Goal: the thresholds are safe and live for every validator count, and minimal. Method: check the
 * defining inequalities in integer arithmetic for n = 1..100, and pin the values at the 1/3 and
 * 2/3 boundaries, including n = 30 where the literal "2f+1" is unsafe.
 */

const COUNTS = Array.from({ length: 100 }, (_, index) => index + 1);

describe.each(COUNTS.map((n) => [n]))("n = %d validators", (n) => {
  const quorum = quorumSize(n);
  const roundSkip = roundSkipSize(n);
  const f = faultTolerance(n);

  test("f is the largest count with 3f < n", () => {
    expect(3 * f).toBeLessThan(n);
    expect(3 * (f + 1)).toBeGreaterThanOrEqual(n);
  });

  test("a quorum is the smallest count above 2n/3", () => {
    expect(3 * quorum).toBeGreaterThan(2 * n);
    expect(3 * (quorum - 1)).toBeLessThanOrEqual(2 * n);
  });

  test("safety: quorum * 2 > n + f, so two quorums share more than f validators (at least one correct)", () => {
    expect(2 * quorum).toBeGreaterThan(n + f);
    const sharedAtLeast = 2 * quorum - n;
    expect(sharedAtLeast).toBeGreaterThan(f);
  });

  test("liveness: the n - f correct validators form a quorum on their own", () => {
    expect(quorum).toBeLessThanOrEqual(n - f);
  });

  test("a round skip is the smallest count above n/3, so it holds a correct validator", () => {
    expect(3 * roundSkip).toBeGreaterThan(n);
    expect(3 * (roundSkip - 1)).toBeLessThanOrEqual(n);
    expect(roundSkip).toBeGreaterThan(f);
    expect(roundSkip).toBeLessThanOrEqual(quorum);
  });
});

test.each([
  [1, 1, 1, 0],
  [2, 2, 1, 0],
  [3, 3, 2, 0],
  [4, 3, 2, 1],
  [5, 4, 2, 1],
  [6, 5, 3, 1],
  [7, 5, 3, 2],
  [10, 7, 4, 3],
  [30, 21, 11, 9],
  [31, 21, 11, 10],
  [100, 67, 34, 33],
])("n = %d: quorum %d, round skip %d, f = %d", (n, quorum, roundSkip, f) => {
  expect(quorumSize(n)).toBe(quorum);
  expect(roundSkipSize(n)).toBe(roundSkip);
  expect(faultTolerance(n)).toBe(f);
});

test("n = 30: the literal 2f + 1 = 19 would be unsafe, and quorumSize is not it", () => {
  const f = faultTolerance(30);
  const literal = 2 * f + 1;
  expect(2 * literal - 30).toBeLessThanOrEqual(f);
  expect(quorumSize(30)).not.toBe(literal);
});

test.each([0, -1, 1.5, Number.NaN])("a validator count of %d is a programmer error", (n) => {
  expect(() => quorumSize(n)).toThrow(AssertionError);
  expect(() => roundSkipSize(n)).toThrow(AssertionError);
  expect(() => faultTolerance(n)).toThrow(AssertionError);
});
