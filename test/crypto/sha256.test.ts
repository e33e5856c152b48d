import { createHash, randomBytes } from "node:crypto";
import { SHA256_BYTES, sha256 } from "../../src/crypto/sha256";

describe("sha256", () => {
  it("gives the SHA-256 digest of every byte pattern and length, including empty input", () => {
    const inputs = [Buffer.alloc(0), Buffer.alloc(1, 0xff), Buffer.alloc(64, 0x80), randomBytes(201), randomBytes(65), randomBytes(1 << 16)];
    for (let length = 0; length < 300; length++) inputs.push(randomBytes(length));
    for (const input of inputs) {
      const digest = sha256(input);
      expect(digest.length).toBe(SHA256_BYTES);
      expect(digest.equals(createHash("sha256").update(input).digest())).toBe(true);
    }
  });

  it("covers every byte value in a digest (a byte above 0x7f is not mangled by the string in between)", () => {
    const seen = new Set<number>();
    for (let i = 0; seen.size < 256 && i < 10_000; i++) for (const byte of sha256(Buffer.from(String(i)))) seen.add(byte);
    expect(seen.size).toBe(256);
  });

  it("returns a fresh Buffer each call, which later calls do not overwrite", () => {
    const first = sha256(Buffer.from("a"));
    const kept = Buffer.from(first);
    sha256(Buffer.from("b"));
    expect(first.equals(kept)).toBe(true);
  });

  it("hashes a view into a larger buffer by its bytes only", () => {
    const whole = randomBytes(100);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 10, 50);
    expect(sha256(view).equals(createHash("sha256").update(whole.subarray(10, 60)).digest())).toBe(true);
  });
});
