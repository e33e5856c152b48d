import fc from "fast-check";
import { AssertionError } from "../../src/assert";
import { formatCheckpoint, parseCheckpoint, type Checkpoint } from "../../src/log/checkpoint";
import { EMPTY_ROOT, hashLeaf } from "../../src/log/hasher";
import { thrown } from "./thrown";

/**
 * Goal: a checkpoint has exactly one text. Method: round trips (fixed and random), the real Tessera body,
 * then one refusal per way a body can be malformed, each with its sentence.
 */

const ROOT = hashLeaf(Buffer.from("some tree"));
const ROOT_BASE64 = ROOT.toString("base64");

describe("round trips", () => {
  test.each<[string, Checkpoint]>([
    ["no extensions", { origin: "example.com/log", size: 15n, root: ROOT, extensions: [] }],
    ["extension lines", { origin: "example.com/log", size: 15n, root: ROOT, extensions: ["timestamp 1700000000", "— not a signature"] }],
    ["the empty tree", { origin: "hashfed.example/federation", size: 0n, root: EMPTY_ROOT, extensions: [] }],
    ["the largest size", { origin: "o", size: 2n ** 64n - 1n, root: ROOT, extensions: [] }],
  ])("%s", (_name, checkpoint) => {
    const body = formatCheckpoint(checkpoint);
    expect(parseCheckpoint(body)).toEqual(checkpoint);
    expect(formatCheckpoint(parseCheckpoint(body))).toBe(body);
  });

  test("the exact text", () => {
    const checkpoint = { origin: "example.com/log", size: 15n, root: ROOT, extensions: ["one", "two"] };
    expect(formatCheckpoint(checkpoint)).toBe(`example.com/log\n15\n${ROOT_BASE64}\none\ntwo\n`);
  });

  test("random checkpoints", () => {
    const line = fc.string({ minLength: 1, maxLength: 30 }).filter((text) => !/[\u0000-\u001f\u007f]/.test(text));
    const checkpoints = fc.record({
      origin: line,
      size: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      root: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
      extensions: fc.array(line, { maxLength: 3 }),
    });
    fc.assert(fc.property(checkpoints, (checkpoint) => expect(parseCheckpoint(formatCheckpoint(checkpoint))).toEqual(checkpoint)));
  });
});

test("the body of Tessera's signed size-15 checkpoint", () => {
  const body = "example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n";
  expect(parseCheckpoint(body)).toEqual({
    origin: "example.com/log/testdata",
    size: 15n,
    root: Buffer.from("rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=", "base64"),
    extensions: [],
  });
});

describe("refusals", () => {
  // The last base64 character of a 32-byte value carries 2 bits and 4 unused ones, which must be zero.
  const nonCanonicalRoot = ROOT_BASE64.slice(0, 42) + String.fromCharCode(ROOT_BASE64.charCodeAt(42) ^ 1) + "=";
  test.each([
    ["no final newline", `o\n1\n${ROOT_BASE64}`, "a checkpoint body must end with a newline"],
    ["too few lines", "o\n1\n", "a checkpoint body has at least 3 lines (origin, size, root hash), this one has 2"],
    ["empty origin", `\n1\n${ROOT_BASE64}\n`, "the checkpoint origin (line 1) is empty"],
    ["leading zero", `o\n01\n${ROOT_BASE64}\n`, 'checkpoint size "01" has a leading zero'],
    ["sign", `o\n+1\n${ROOT_BASE64}\n`, 'checkpoint size "+1" is not a decimal number'],
    ["negative size", `o\n-1\n${ROOT_BASE64}\n`, 'checkpoint size "-1" is not a decimal number'],
    ["empty size", `o\n\n${ROOT_BASE64}\n`, 'checkpoint size "" is not a decimal number'],
    ["space in size", `o\n 1\n${ROOT_BASE64}\n`, 'checkpoint size " 1" is not a decimal number'],
    ["2^64", `o\n18446744073709551616\n${ROOT_BASE64}\n`, 'checkpoint size "18446744073709551616" is larger than 2^64 - 1'],
    ["huge size", `o\n${"9".repeat(40)}\n${ROOT_BASE64}\n`, `checkpoint size "${"9".repeat(40)}" is larger than 2^64 - 1`],
    ["31-byte root", `o\n1\n${ROOT.subarray(1).toString("base64")}\n`, "is not the canonical base64 of a 32-byte hash"],
    ["unpadded root", `o\n1\n${ROOT_BASE64.slice(0, 43)}\n`, "is not the canonical base64 of a 32-byte hash"],
    ["non-canonical root", `o\n1\n${nonCanonicalRoot}\n`, "is not the canonical base64 of a 32-byte hash"],
    // 0xfb bytes encode to "+" and "/", which base64url writes as "-" and "_".
    ["base64url root", `o\n1\n${Buffer.alloc(32, 0xfb).toString("base64url")}=\n`, "is not the canonical base64 of a 32-byte hash"],
    ["empty extension", `o\n1\n${ROOT_BASE64}\next\n\n`, "checkpoint extension line 5 is empty"],
    ["a whole signed note", `o\n1\n${ROOT_BASE64}\n\n— o AAAA\n`, "checkpoint extension line 4 is empty"],
    ["carriage returns", `o\r\n1\r\n${ROOT_BASE64}\r\n`, 'checkpoint line 1 ("o\\r") contains a control character'],
  ])("%s", (_name, body, message) => {
    const error = thrown(() => parseCheckpoint(body));
    expect(error).toMatchObject({ kind: "invalid", code: "CHECKPOINT_MALFORMED" });
    expect((error as Error).message).toContain(message);
  });

  test("a long hostile line is cut short in the message", () => {
    const error = thrown(() => parseCheckpoint(`o\n${"x".repeat(10_000)}\n${ROOT_BASE64}\n`)) as Error;
    expect(error.message.length).toBeLessThan(200);
  });

  test("formatting a checkpoint that could not be parsed back is a programmer error", () => {
    const valid: Checkpoint = { origin: "o", size: 1n, root: ROOT, extensions: [] };
    for (const invalid of [
      { ...valid, origin: "" },
      { ...valid, origin: "two\nlines" },
      { ...valid, size: -1n },
      { ...valid, size: 2n ** 64n },
      { ...valid, root: ROOT.subarray(1) },
      { ...valid, extensions: [""] },
    ]) {
      expect(() => formatCheckpoint(invalid)).toThrow(AssertionError);
    }
  });
});
