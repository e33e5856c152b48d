/**
 * Goal: the match index answers PDQ near-duplicate queries from the multi-index, and a retraction
 * takes the entry out of every answer and out of the PDQ hash count. Method: a few hashes of each
 * type, a near-duplicate query before and after retracting, at distance 0 and above.
 */
import { randomBytes } from "node:crypto";
import { MatchIndex } from "../../src/index";

function nearTo(value: Uint8Array, flips: number): Buffer {
  const near = Buffer.from(value);
  for (let bit = 0; bit < flips; bit++) near[bit]! ^= 1;
  return near;
}

describe("MatchIndex", () => {
  test("PDQ matches within the distance, retracted entries never, and the PDQ count follows", () => {
    const index = new MatchIndex([1, 2]);
    const pdqValues = Array.from({ length: 600 }, () => randomBytes(32));
    pdqValues.forEach((value, i) => index.add("pdq", value, 2 * i));
    const md5 = randomBytes(16);
    index.add("md5", md5, 1201);
    expect(index.pdqHashes).toBe(600);
    expect(index.match("pdq", nearTo(pdqValues[42]!, 12), 31)).toEqual([{ logIndex: 84, distance: 12 }]);
    expect(index.match("pdq", nearTo(pdqValues[42]!, 12), 11)).toEqual([]);
    expect(index.match("pdq", pdqValues[42]!, 0)).toEqual([{ logIndex: 84, distance: 0 }]);

    index.retract(84);
    index.retract(1201);
    expect(index.match("pdq", nearTo(pdqValues[42]!, 12), 31)).toEqual([]);
    expect(index.match("pdq", pdqValues[42]!, 0)).toEqual([]);
    expect(index.match("md5", md5, 0)).toEqual([]);
    expect(index.pdqHashes).toBe(599);
    expect(index.match("pdq", nearTo(pdqValues[43]!, 3), 31)).toEqual([{ logIndex: 86, distance: 3 }]);
  });
});
