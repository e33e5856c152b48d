import { RecentSends } from "../../src/replica/recentSends";
import { bitmapHas, voterBitmap } from "../../src/replica/voterBitmap";

const validators = Array.from({ length: 10 }, (_, i) => `v${i}.example`);

describe("voterBitmap", () => {
  it("sets the bit of each voter by its place in the federation file, and no other", () => {
    const bitmap = voterBitmap(validators, ["v0.example", "v3.example", "v9.example"]);
    expect(bitmap).toHaveLength(2);
    expect(validators.map((_, i) => bitmapHas(bitmap, i))).toEqual([true, false, false, true, false, false, false, false, false, true]);
  });

  it("ignores names that are not validators", () => {
    expect(voterBitmap(validators, ["intruder.example"]).every((byte) => byte === 0)).toBe(true);
  });

  it("reads a short or empty bitmap from a peer as holding nothing beyond its end", () => {
    expect(bitmapHas(Buffer.alloc(0), 0)).toBe(false);
    expect(bitmapHas(Buffer.from([0xff]), 8)).toBe(false);
    expect(bitmapHas(Buffer.from([0xff]), -1)).toBe(false);
  });
});

describe("RecentSends", () => {
  const signature = Buffer.alloc(64, 7);

  it("lets a message go to a peer once per interval, and to each peer on its own", () => {
    const sends = new RecentSends(200);
    expect(sends.admit("a", signature, 1000)).toBe(true);
    expect(sends.admit("a", signature, 1199)).toBe(false);
    expect(sends.admit("b", signature, 1199)).toBe(true);
    expect(sends.admit("a", signature, 1200)).toBe(true);
  });

  it("holds back a message from every peer for an interval after it first arrived, as its signer sent it to all", () => {
    const sends = new RecentSends(200);
    sends.heard(signature, 1000);
    sends.heard(signature, 1150);
    expect(sends.admit("a", signature, 1199)).toBe(false);
    expect(sends.admit("b", signature, 1199)).toBe(false);
    expect(sends.admit("a", Buffer.alloc(64, 8), 1199)).toBe(true);
    expect(sends.admit("a", signature, 1200)).toBe(true);
    expect(sends.admit("b", signature, 1200)).toBe(true);
  });

  it("takes a longer interval for a message that asks for one (a proposal waits a propose timeout)", () => {
    const sends = new RecentSends(200);
    sends.heard(signature, 0);
    expect(sends.admit("a", signature, 500, 1000)).toBe(false);
    expect(sends.admit("a", signature, 1000, 1000)).toBe(true);
    expect(sends.admit("a", signature, 1500, 1000)).toBe(false);
    expect(sends.admit("a", signature, 2000, 1000)).toBe(true);
  });

  it("tells messages apart by signature, and forgets everything at a new height", () => {
    const sends = new RecentSends(200);
    expect(sends.admit("a", signature, 0)).toBe(true);
    expect(sends.admit("a", Buffer.alloc(64, 8), 0)).toBe(true);
    sends.heard(Buffer.alloc(64, 9), 0);
    sends.clear();
    expect(sends.admit("a", signature, 1)).toBe(true);
    expect(sends.admit("a", Buffer.alloc(64, 9), 1)).toBe(true);
  });
});
