import { inspect } from "node:util";
import { AssertionError } from "../../src/assert";
import { privateKeyObject, signEd25519, verifyEd25519 } from "../../src/crypto/ed25519";
import { privateKeyFromSeed } from "../../src/crypto/keys";
import { signNoteText, verifyNoteSignatures } from "../../src/crypto/signedNote";
import { KeySigner } from "../../src/crypto/signer";
import { domainMessage, SIGNING_DOMAINS, type SigningDomain, verifyInDomain } from "../../src/crypto/signingDomain";
import { pseudoRandomBytes } from "./testBytes";

const key = privateKeyFromSeed("member.example", pseudoRandomBytes("domain/key", 32));
const signer = new KeySigner(key);
const bytes = pseudoRandomBytes("domain/bytes", 90);

describe("domain-separated signatures", () => {
  test("the signed message is the domain line then the bytes, exactly", () => {
    expect(domainMessage("statement", Buffer.from("xyz")).toString("utf8")).toBe("hashfed/v1/statement\nxyz");
    expect(domainMessage("peer-auth", new Uint8Array(0)).toString("utf8")).toBe("hashfed/v1/peer-auth\n");
  });

  test("a statement-domain signature does not verify in the vote domain", () => {
    const signature = signer.sign("statement", bytes);
    expect(verifyInDomain(key.verifierKey, "statement", bytes, signature)).toBe(true);
    expect(verifyInDomain(key.verifierKey, "vote", bytes, signature)).toBe(false);
  });

  test("a signature made in one domain verifies in that domain only, for every pair of domains", () => {
    for (const signedIn of SIGNING_DOMAINS) {
      const signature = signer.sign(signedIn, bytes);
      for (const checkedIn of SIGNING_DOMAINS) {
        expect([signedIn, checkedIn, verifyInDomain(key.verifierKey, checkedIn, bytes, signature)]).toEqual([signedIn, checkedIn, signedIn === checkedIn]);
      }
    }
  });

  test("a plain Ed25519 signature of the bytes verifies in no domain, and a domain signature is not one of the bare bytes", () => {
    const plain = signEd25519(privateKeyObject(key.seed), bytes);
    for (const domain of SIGNING_DOMAINS) expect(verifyInDomain(key.verifierKey, domain, bytes, plain)).toBe(false);
    expect(verifyEd25519(key.verifierKey.keyObject, bytes, signer.sign("vote", bytes))).toBe(false);
  });

  test("another member's key, changed bytes and a malformed signature do not verify", () => {
    const other = privateKeyFromSeed("other.example", pseudoRandomBytes("domain/other", 32));
    const signature = signer.sign("proposal", bytes);
    expect(verifyInDomain(other.verifierKey, "proposal", bytes, signature)).toBe(false);
    expect(verifyInDomain(key.verifierKey, "proposal", Buffer.concat([bytes, Buffer.from([0])]), signature)).toBe(false);
    expect(verifyInDomain(key.verifierKey, "proposal", bytes, signature.subarray(0, 63))).toBe(false);
  });

  test("an unknown domain is a programmer error", () => {
    expect(() => domainMessage("checkpoint" as SigningDomain, bytes)).toThrow(AssertionError);
  });
});

describe("KeySigner", () => {
  test("exposes the key's name and verifier key", () => {
    expect(signer.name).toBe("member.example");
    expect(signer.verifierKey.text).toBe(key.verifierKey.text);
  });

  test("signNote gives the same signature as signNoteText, and it verifies as a note signature", () => {
    const text = "federation.example/log\n1\nAAAA\n";
    const signature = signer.signNote(text);
    expect(signature).toEqual(signNoteText(text, key));
    expect(verifyNoteSignatures({ text, signatures: [signature] }, [key.verifierKey])).toEqual([key.verifierKey]);
  });

  test("does not reveal the private key when logged or serialised", () => {
    const secret = key.seed.toString("hex");
    const secretText = key.text;
    for (const shown of [JSON.stringify(signer), inspect(signer, { depth: 5 }), Object.keys(signer).join(",")]) {
      expect(shown).not.toContain(secretText);
      expect(shown).not.toContain("PRIVATE+KEY");
      expect(shown).not.toContain(secret);
    }
  });
});

describe("verifyInDomain's memory of recent checks", () => {
  const key = privateKeyFromSeed("memo.example", pseudoRandomBytes("memo key", 32));
  const signer = new KeySigner(key);

  test("a valid check answered from memory cannot be reused for bytes shifted between message and signature", () => {
    const message = pseudoRandomBytes("memo message", 40);
    const signature = signer.sign("vote", message);
    expect(verifyInDomain(key.verifierKey, "vote", message, signature)).toBe(true);
    expect(verifyInDomain(key.verifierKey, "vote", message, signature)).toBe(true);
    const shifted = Buffer.concat([message, signature.subarray(0, 10)]);
    expect(verifyInDomain(key.verifierKey, "vote", shifted, signature.subarray(10))).toBe(false);
    expect(verifyInDomain(key.verifierKey, "proposal", message, signature)).toBe(false);
    const tampered = Buffer.from(signature);
    tampered[3]! ^= 1;
    expect(verifyInDomain(key.verifierKey, "vote", message, tampered)).toBe(false);
  });
});
