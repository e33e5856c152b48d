import { AssertionError } from "../../src/assert";
import { CountsByKey } from "../../src/table";

test("counts per key, dropping a key at zero; a count cannot go below zero", () => {
  const counts = new CountsByKey();
  counts.add("a");
  counts.add("a");
  counts.add("b", 3);
  expect([counts.of("a"), counts.of("b"), counts.of("c")]).toEqual([2, 3, 0]);
  counts.removeOne("a");
  counts.removeOne("a");
  expect(counts.of("a")).toBe(0);
  expect(() => counts.removeOne("a")).toThrow(AssertionError);
  counts.clear();
  expect(counts.of("b")).toBe(0);
});
