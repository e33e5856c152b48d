import { PeerLimits } from "../../src/peer/peerLimits";

describe("PeerLimits", () => {
  it("admits a burst up to the frames per second, then refuses until time refills it", () => {
    const limits = new PeerLimits({ framesPerSecondMax: 3, bytesPerSecondMax: 1_000_000 }, 0);
    expect([1, 2, 3, 4].map(() => limits.admits(10, 0))).toEqual([true, true, true, false]);
    expect(limits.admits(10, 334)).toBe(true);
    expect(limits.admits(10, 334)).toBe(false);
  });

  it("refuses a message beyond the bytes per second, whatever the frame count", () => {
    const limits = new PeerLimits({ framesPerSecondMax: 1000, bytesPerSecondMax: 100 }, 0);
    expect(limits.admits(60, 0)).toBe(true);
    expect(limits.admits(60, 0)).toBe(false);
    expect(limits.admits(60, 1000)).toBe(true);
  });

  it("a clock that goes back neither refills nor drains the limits: time counts again from there", () => {
    const limits = new PeerLimits({ framesPerSecondMax: 2, bytesPerSecondMax: 1_000_000 }, 3_600_000);
    expect([1, 2, 3].map(() => limits.admits(10, 3_600_000))).toEqual([true, true, false]);
    expect(limits.admits(10, 0)).toBe(false);
    expect(limits.admits(10, 500)).toBe(true);
  });
});
