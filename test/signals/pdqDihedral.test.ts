import { readFileSync } from "node:fs";
import path from "node:path";
import { PDQ_DIHEDRAL_VARIANTS, type PdqDihedralVariant, pdqDihedralVariant, pdqDistance } from "../../src/signals";

/**
 * Goal: a variant computed from a PDQ hash matches the hash of the turned or flipped image. Oracle:
 * the reference's hashes of the eight bridge images (one photo in its eight orientations), read
 * from ../shared/reference/pdq.md.
 */
const REFERENCE = path.resolve(__dirname, "../..", "../shared/reference/pdq.md");
const FILES: Record<PdqDihedralVariant | "original", string> = {
  original: "bridge-1-original",
  rot90: "bridge-2-rotate-90",
  rot180: "bridge-3-rotate-180",
  rot270: "bridge-4-rotate-270",
  flipX: "bridge-5-flipx",
  flipY: "bridge-6-flipy",
  flipPlus1: "bridge-7-flip-plus-1",
  flipMinus1: "bridge-8-flip-minus-1",
};

function bridgeHashes(): Record<keyof typeof FILES, Buffer> {
  const text = readFileSync(REFERENCE, "utf8");
  const entries = Object.entries(FILES).map(([variant, file]) => {
    const found = new RegExp(`dih/${file}\\.jpg \\| \`([0-9a-f]{64})\``).exec(text);
    if (found === null) throw new Error(`${REFERENCE} has no hash for ${file}`);
    return [variant, Buffer.from(found[1]!, "hex")];
  });
  return Object.fromEntries(entries) as Record<keyof typeof FILES, Buffer>;
}

const bridge = bridgeHashes();

describe("PDQ dihedral variants from the hash", () => {
  it.each(PDQ_DIHEDRAL_VARIANTS)("%s of the original is a near-duplicate of the hash of that image", (variant) => {
    const derived = pdqDihedralVariant(bridge.original, variant);
    expect(pdqDistance(derived, bridge[variant])).toBeLessThanOrEqual(18);
    // Without the variant, the turned image is nowhere near a match.
    expect(pdqDistance(bridge.original, bridge[variant])).toBeGreaterThan(100);
  });

  it("composes as the orientations do: four quarter turns, two flips or two transposes are the identity", () => {
    const turn = (value: Buffer): Buffer => pdqDihedralVariant(value, "rot90");
    expect(turn(turn(turn(turn(bridge.original))))).toEqual(bridge.original);
    expect(turn(turn(bridge.original))).toEqual(pdqDihedralVariant(bridge.original, "rot180"));
    expect(turn(turn(turn(bridge.original)))).toEqual(pdqDihedralVariant(bridge.original, "rot270"));
    for (const variant of ["flipX", "flipY", "flipPlus1", "flipMinus1"] as const) {
      expect(pdqDihedralVariant(pdqDihedralVariant(bridge.original, variant), variant)).toEqual(bridge.original);
    }
  });
});
