import { parseCheckpoint } from "../../src/log/checkpoint";
import { CompactRange } from "../../src/log/compactRange";
import { EMPTY_ROOT, HASH_BYTES, hashChildren, hashLeaf } from "../../src/log/hasher";
import { consistencyProofRanges, inclusionProofRanges } from "../../src/log/proof";
import { foldRangeHashes, rangeNodes, type LeafRange } from "../../src/log/subtree";
import { verifyConsistency, verifyInclusion } from "../../src/log/verify";

/**
 * Goal: hashfed computes exactly the hashes, roots and proofs that other RFC 6962 implementations publish.
 * Method: the known answers quoted in shared/reference/transparency-log.md §3 (transparency-dev/merkle's
 * hasher tests and testonly constants, cmd/proofgen's proofs, and Tessera's 15-entry test log), checked
 * through the public API: roots by appending to a CompactRange, proofs by laying them out with the
 * *ProofRanges functions and reading node hashes from the appends' node writes, as a store would.
 */

const hex = (text: string) => Buffer.from(text, "hex");
const hexOf = (hashes: Uint8Array[]) => hashes.map((hash) => Buffer.from(hash).toString("hex"));

describe("hasher (rfc6962_test.go)", () => {
  test("the empty root, leaf hashes and an interior node hash", () => {
    expect(HASH_BYTES).toBe(32);
    expect(EMPTY_ROOT.toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hashLeaf(Buffer.alloc(0)).toString("hex")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    expect(hashLeaf(Buffer.from("L123456")).toString("hex")).toBe("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
    expect(hashChildren(Buffer.from("N123"), Buffer.from("N456")).toString("hex")).toBe(
      "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
    );
  });

  test("a Uint8Array that is not a Buffer hashes the same", () => {
    expect(hashLeaf(new Uint8Array([0x10])).equals(hashLeaf(Buffer.from([0x10])))).toBe(true);
  });
});

/** The 8 leaves of transparency-dev/merkle testonly/constants.go. */
const LEAF_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const LEAF_HASHES = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
  "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
  "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
  "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
  "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
  "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
];
/** Roots of the trees of sizes 0 to 8 over those leaves. */
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/** Appends every leaf, keeping each root and every node write, keyed "level/index", as a store would. */
function buildLog(leafHashes: Buffer[]): { roots: string[]; stored: Map<string, Buffer> } {
  const range = CompactRange.empty();
  const roots = [range.root().toString("hex")];
  const stored = new Map<string, Buffer>();
  for (const leafHash of leafHashes) {
    for (const write of range.append(leafHash)) stored.set(`${write.level}/${write.index}`, write.hash);
    roots.push(range.root().toString("hex"));
  }
  return { roots, stored };
}

function readProof(ranges: LeafRange[], stored: Map<string, Buffer>): Buffer[] {
  const read = (level: number, index: bigint) => {
    const hash = stored.get(`${level}/${index}`);
    if (hash === undefined) throw new Error(`node ${level}/${index} was never written`);
    return hash;
  };
  return ranges.map((range) => foldRangeHashes(rangeNodes(range.start, range.end).map((node) => read(node.level, node.index))));
}

describe("testonly/constants.go tree of 8 leaves", () => {
  const leafHashes = LEAF_INPUTS.map((input) => hashLeaf(hex(input)));
  const { roots, stored } = buildLog(leafHashes);

  test("leaf hashes and the roots of sizes 0 to 8", () => {
    expect(hexOf(leafHashes)).toEqual(LEAF_HASHES);
    expect(roots).toEqual(ROOTS);
  });

  test("the level-1 and level-2 node hashes written by the appends", () => {
    expect(hexOf([0n, 1n, 2n, 3n].map((index) => stored.get(`1/${index}`)!))).toEqual([
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ]);
    expect(hexOf([stored.get("2/0")!, stored.get("2/1")!])).toEqual([
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]);
  });

  // I1 to I5 are upstream (cmd/proofgen, with its 1-based index made 0-based); I6 matches the RFC's example.
  test.each([
    ["I1", 0, 1, []],
    ["I2", 0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]],
    ["I3", 5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]],
    ["I4", 2, 3, ["fac54203"]],
    ["I5", 1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]],
    ["I6", 6, 7, ["0ebc5d34", "d37ee418"]],
  ])("inclusion %s: index %i in size %i", (_name, index, size, expectedPrefixes) => {
    const proof = readProof(inclusionProofRanges(BigInt(index), BigInt(size)), stored);
    expect(hexOf(proof).map((element) => element.slice(0, 8))).toEqual(expectedPrefixes);
    expect(() => verifyInclusion(BigInt(index), BigInt(size), leafHashes[index], proof, hex(ROOTS[size]))).not.toThrow();
  });

  // C1, C2, C3, C5 and C6 are upstream; C4 (a power-of-two first size) and C7 (the RFC's example) are derived.
  test.each([
    ["C1", 1, 1, []],
    ["C2", 1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]],
    ["C3", 6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]],
    ["C4", 4, 8, ["6b47aaf2"]],
    ["C5", 2, 5, ["5f083f0a", "bc1a0643"]],
    ["C6", 6, 7, ["0ebc5d34", "b08693ec", "d37ee418"]],
    ["C7", 3, 7, ["0298d122", "07506a85", "fac54203", "837dbb15"]],
  ])("consistency %s: %i -> %i", (_name, first, second, expectedPrefixes) => {
    const proof = readProof(consistencyProofRanges(BigInt(first), BigInt(second)), stored);
    expect(hexOf(proof).map((element) => element.slice(0, 8))).toEqual(expectedPrefixes);
    expect(() => verifyConsistency(BigInt(first), BigInt(second), hex(ROOTS[first]), hex(ROOTS[second]), proof)).not.toThrow();
  });

  test("C7's last element is the full hash the reference quotes", () => {
    const proof = readProof(consistencyProofRanges(3n, 7n), stored);
    expect(proof[3].toString("hex")).toBe("837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e");
  });
});

describe("Tessera testdata/log (15 entries)", () => {
  const ENTRIES = "one two three four five six seven eit nain ten ileven twelf threeten fourten fivten".split(" ");
  const ROOTS_BASE64 = [
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "0Nc2CrefWKseHj/mStd+LqC8B+NrX0btIiPt2SmN+ek=",
    "T1X2GdkhUjV3iyufF9b0kVsWFxIU0VI4EpNml2Teci4=",
    "Wqx3HImawpLnS/Gv4ubjAvi1WIOy0b8Ze0amvqbavKk=",
    "zY1lN35vrXYAPixXSd59LsU29xUJtuW4o2dNNg5Y2Co=",
    "gy5gl3aksFyiCO95a/1vLXz88A3dRq+0l9Sxte8ZqZQ=",
    "a6sWvsc2eEzmj72vah7mZ5dwFltivehh2b11qwlp5Jg=",
    "IrSXADBqJ7EQoUODSDKROySgNveeL6CFhik2w/+fS7U=",
    "bC+VwvrJbalNVjfkdI8kUgs7mJoXrqiXCE7bgnD28pY=",
    "CvhHViE3S9E3htHLR+25mapWoGCJ3WckMq1UtC3VmEY=",
    "y8/gZsZCtitsMan09tY+k8I7Qpr7Y5fbO2tLi9GQnfU=",
    "Yok1cS5VdokGLBy73BC2I16b3atss6KBN9jnIi6Fz/A=",
    "uZo6M+IhVna+CLgWCrJs0xBPUHbozHkYTQASduHSLME=",
    "av0kLH0VkkVDrTuZzBGIx7d9z5G1l/GlKz/nAV/8woQ=",
    "SvCd38yNade7xEPY1a/aAc1M3A2AHYVF8lIiUnsH1ao=",
    "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=",
  ];

  test("the root after every append, sizes 0 to 15", () => {
    const { roots } = buildLog(ENTRIES.map((entry) => hashLeaf(Buffer.from(entry, "ascii"))));
    expect(roots.map((root) => hex(root).toString("base64"))).toEqual(ROOTS_BASE64);
  });

  test("the signed size-15 checkpoint's body parses to that root", () => {
    const body = "example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n";
    const checkpoint = parseCheckpoint(body);
    expect(checkpoint.origin).toBe("example.com/log/testdata");
    expect(checkpoint.size).toBe(15n);
    expect(checkpoint.root.toString("base64")).toBe(ROOTS_BASE64[15]);
    expect(checkpoint.extensions).toEqual([]);
  });
});
