import { createPublicKey, verify } from "node:crypto";
import { HashfedError } from "../../src/errors";
import {
  keyId,
  parsePrivateKey,
  parseVerifierKey,
  privateKeyFromSeed,
  verifierKeyFromPublicKey,
} from "../../src/crypto/keys";
import { V1, V2, V4 } from "./noteVectors";
import { pseudoRandomBytes } from "./testBytes";

/** Runs `parse` and returns the parsed key's identity (name and public key), or "rejected" for a HashfedError. */
function outcome(parse: (text: string) => { name: string; publicKey: Buffer }, text: string): string {
  try {
    const key = parse(text);
    return `${key.name} ${key.publicKey.toString("hex")}`;
  } catch (error) {
    if (error instanceof HashfedError && error.kind === "invalid") return "rejected";
    throw error;
  }
}

function errorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof HashfedError) return error.code;
    throw error;
  }
  return "no error";
}

describe("C2SP verifier and private key texts", () => {
  test("a generated key round-trips through its private and verifier key texts", () => {
    const seed = pseudoRandomBytes("keys/round-trip", 32);
    const key = privateKeyFromSeed("member.example/node", seed);
    const reparsed = parsePrivateKey(key.text);
    expect(reparsed.text).toBe(key.text);
    expect(reparsed.seed.equals(seed)).toBe(true);
    expect(reparsed.publicKey.equals(key.publicKey)).toBe(true);
    const verifier = parseVerifierKey(key.verifierKey.text);
    expect(verifier.text).toBe(key.verifierKey.text);
    expect(verifier.publicKey.equals(key.publicKey)).toBe(true);
    expect(verifier.keyId.equals(key.keyId)).toBe(true);
    expect(key.text).toMatch(/^PRIVATE\+KEY\+member\.example\/node\+[0-9a-f]{8}\+/);
  });

  test.each([
    ["V1", V1.verifierKey, "530d903a"],
    ["V2", V2.verifierKey, "c74f20a3"],
    ["V4", V4.verifierKey, "33d7b496"],
  ])("the %s verifier key parses and formats back to the same text (%s, key id %s)", (_vector, text, id) => {
    const key = parseVerifierKey(text);
    expect(key.text).toBe(text);
    expect(key.keyId.toString("hex")).toBe(id);
    expect(keyId(key.name, key.publicKey).toString("hex")).toBe(id);
  });

  test("a key part containing '+' parses: only the first two '+' separate parts (V2 private key, V4 verifier key)", () => {
    expect(V4.verifierKey.split("+").length).toBeGreaterThan(3);
    expect(V2.privateKey.split("+").length).toBeGreaterThan(5);
    const key = parsePrivateKey(V2.privateKey);
    expect(key.text).toBe(V2.privateKey);
    expect(key.verifierKey.text).toBe(V2.verifierKey);
  });

  test("names with '+', spaces, control characters or lone surrogates are rejected", () => {
    const seed = pseudoRandomBytes("keys/names", 32);
    const publicKey = privateKeyFromSeed("fine", seed).publicKey;
    const badNames = ["", "a+b", "a b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\u3000b", "a\u0000b", "a\u0085b", "a\ud800b"];
    for (const name of badNames) {
      expect([name, errorCode(() => privateKeyFromSeed(name, seed))]).toEqual([name, name === "" ? "KEY_NAME_EMPTY" : "KEY_NAME_BAD"]);
      expect([name, errorCode(() => verifierKeyFromPublicKey(name, publicKey))]).toEqual([name, name === "" ? "KEY_NAME_EMPTY" : "KEY_NAME_BAD"]);
    }
    // Names that are fine: a path, non-ASCII letters.
    expect(privateKeyFromSeed("example.com/log/testdata", seed).name).toBe("example.com/log/testdata");
    expect(privateKeyFromSeed("bücher.example", seed).name).toBe("bücher.example");
  });

  test("malformed texts get precise codes", () => {
    const vkey = parseVerifierKey(V2.verifierKey);
    const [name, id, encoded] = [vkey.name, vkey.keyId.toString("hex"), V2.verifierKey.split("+")[2]!];
    const ecdsaTyped = Buffer.concat([Buffer.from([0x02]), vkey.publicKey]).toString("base64");
    type Parse = (text: string) => unknown;
    const cases: Array<[string, Parse, string, string]> = [
      ["two parts", parseVerifierKey, `${name}+${id}`, "KEY_MALFORMED"],
      ["upper-case key id", parseVerifierKey, `${name}+${id.toUpperCase()}+${encoded}`, "KEY_MALFORMED"],
      ["short key id", parseVerifierKey, `${name}+${id.slice(1)}+${encoded}`, "KEY_MALFORMED"],
      ["extra base64 padding", parseVerifierKey, `${name}+${id}+${encoded}=`, "KEY_MALFORMED"],
      ["URL-safe base64", parseVerifierKey, `${name}+${id}+${encoded.replace(/\//g, "_")}`, "KEY_MALFORMED"],
      ["a trailing newline", parseVerifierKey, `${V2.verifierKey}\n`, "KEY_MALFORMED"],
      ["short key", parseVerifierKey, `${name}+${id}+${Buffer.from([1, 2, 3]).toString("base64")}`, "KEY_BAD_LENGTH"],
      ["ECDSA type byte", parseVerifierKey, `${name}+${id}+${ecdsaTyped}`, "KEY_UNSUPPORTED_TYPE"],
      ["another name", parseVerifierKey, `PeterNeumann2+${id}+${encoded}`, "KEY_ID_MISMATCH"],
      ["a private key given as a verifier key", parseVerifierKey, V2.privateKey, "KEY_MALFORMED"],
      ["a verifier key given as a private key", parsePrivateKey, V2.verifierKey, "KEY_MALFORMED"],
      ["a private key with a wrong key id", parsePrivateKey, V2.privateKey.replace("c74f20a3", "c74f20a4"), "KEY_ID_MISMATCH"],
    ];
    for (const [what, parse, text, code] of cases) {
      expect([what, errorCode(() => parse(text))]).toEqual([what, code]);
    }
  });

  test("an error about a private key never quotes its secret part", () => {
    const secret = V2.privateKey.slice(V2.privateKey.lastIndexOf("+c74f20a3+") + "+c74f20a3+".length);
    for (const text of [V2.privateKey.replace("c74f20a3", "c74f20a4"), V2.privateKey.replace("PeterNeumann", "PeterNeumanm")]) {
      expect(() => parsePrivateKey(text)).toThrow(HashfedError);
      try {
        parsePrivateKey(text);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});

/**
 * Goal: no mangled key text is silently taken for the original key (as Go's note_test does for
 * NewVerifier and NewSigner). Method: every proper substring, and every text with one character
 * replaced by each printable ASCII character and a few others, must be rejected or parse to a
 * different key.
 */
describe("mangled key texts are rejected or name a different key", () => {
  const printableAscii = Array.from({ length: 95 }, (_, index) => String.fromCharCode(0x20 + index));
  const others = ["\n", "\u0000", "é", "\u2014"];
  /** Every printable ASCII character and a few others for verifier keys, which parse in microseconds. */
  const everyReplacement = (): string[] => [...printableAscii, ...others];
  /**
   * For private keys, which cost a key derivation per candidate: the neighbours of the character (as
   * in Go's b[i]++), the separators, padding and characters from each class of the alphabet.
   */
  const targetedReplacements = (character: string): string[] => [
    String.fromCharCode(character.charCodeAt(0) + 1),
    String.fromCharCode(character.charCodeAt(0) - 1),
    ..."+/= Aa0",
    ...others,
  ];
  const generated = privateKeyFromSeed("mangle.example", pseudoRandomBytes("keys/mangle", 32));
  type Parse = (text: string) => { name: string; publicKey: Buffer };
  const texts: Array<[string, string, Parse, (character: string) => string[]]> = [
    ["V2 verifier key", V2.verifierKey, parseVerifierKey, everyReplacement],
    ["V4 verifier key", V4.verifierKey, parseVerifierKey, everyReplacement],
    ["V2 private key", V2.privateKey, parsePrivateKey, targetedReplacements],
    ["generated private key", generated.text, parsePrivateKey, targetedReplacements],
  ];

  test.each(texts)("%s: every proper substring", (_what, text, parse) => {
    const original = outcome(parse, text);
    expect(original).not.toBe("rejected");
    for (let start = 0; start < text.length; start++) {
      for (let end = start + 1; end <= text.length; end++) {
        if (start === 0 && end === text.length) continue;
        const result = outcome(parse, text.slice(start, end));
        if (result === original) throw new Error(`substring [${start}, ${end}) ${JSON.stringify(text.slice(start, end))} parses to the original key`);
      }
    }
  });

  test.each(texts)("%s: single-character changes", (_what, text, parse, replacementsFor) => {
    const original = outcome(parse, text);
    for (let position = 0; position < text.length; position++) {
      for (const replacement of replacementsFor(text[position]!)) {
        if (replacement === text[position]) continue;
        const mangled = text.slice(0, position) + replacement + text.slice(position + 1);
        if (outcome(parse, mangled) === original) throw new Error(`${JSON.stringify(mangled)} parses to the original key`);
      }
    }
  });
});

describe("weak public keys", () => {
  // The y coordinates of the small-order points, and y = p, p + 1 (not canonical), little-endian.
  const weak = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  ].map((hex) => Buffer.from(hex, "hex"));
  const withSignBit = weak.map((key) => Buffer.concat([key.subarray(0, 31), Buffer.from([key[31]! | 0x80])]));

  test("why: under the identity point, one fixed signature verifies any message", () => {
    const identity = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), weak[1]!]), format: "der", type: "spki" });
    const forged = Buffer.concat([weak[1]!, Buffer.alloc(32)]);
    expect([Buffer.from("one message"), Buffer.from("another")].map((message) => verify(null, message, identity, forged))).toEqual([true, true]);
  });

  test.each([...weak, ...withSignBit].map((key) => [key.toString("hex")]))("%s is refused as a member's key, in a key text too", (hex) => {
    const key = Buffer.from(hex, "hex");
    expect(errorCode(() => verifierKeyFromPublicKey("weak.example", key))).toBe("KEY_WEAK");
    const text = `weak.example+${keyId("weak.example", key).toString("hex")}+${Buffer.concat([Buffer.from([1]), key]).toString("base64")}`;
    expect(errorCode(() => parseVerifierKey(text))).toBe("KEY_WEAK");
  });

  test("keys made from seeds are never weak", () => {
    for (let i = 0; i < 200; i++) expect(() => privateKeyFromSeed("strong.example", pseudoRandomBytes(`seed ${i}`, 32))).not.toThrow();
  });
});
