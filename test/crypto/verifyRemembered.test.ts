import { generateSeed, KeySigner, privateKeyFromSeed } from "../../src/crypto";
import { verifyInDomain } from "../../src/crypto/signingDomain";

describe("signatures a signer made are known valid, and nothing else is", () => {
  const key = privateKeyFromSeed("a.example", generateSeed());
  const other = privateKeyFromSeed("a.example", generateSeed());
  const signer = new KeySigner(key);
  const bytes = Buffer.from("a vote's bytes");

  it("verifies the signer's own signature, in its domain only", () => {
    const signature = signer.sign("vote", bytes);
    expect(verifyInDomain(key.verifierKey, "vote", bytes, signature)).toBe(true);
    expect(verifyInDomain(key.verifierKey, "proposal", bytes, signature)).toBe(false);
  });

  it("refuses it under another key of the same name, over other bytes, or altered", () => {
    const signature = signer.sign("vote", bytes);
    expect(verifyInDomain(other.verifierKey, "vote", bytes, signature)).toBe(false);
    expect(verifyInDomain(key.verifierKey, "vote", Buffer.from("other bytes"), signature)).toBe(false);
    const altered = Buffer.from(signature);
    altered[5]! ^= 1;
    expect(verifyInDomain(key.verifierKey, "vote", bytes, altered)).toBe(false);
  });
});
