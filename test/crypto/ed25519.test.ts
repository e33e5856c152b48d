import fc from "fast-check";
import nacl from "tweetnacl";
import {
  privateKeyObject,
  PUBLIC_KEY_BYTES,
  publicKeyFromSeed,
  publicKeyObject,
  SEED_BYTES,
  SIGNATURE_BYTES,
  signEd25519,
  verifyEd25519,
} from "../../src/crypto/ed25519";
import { flipBit, pseudoRandomBytes } from "./testBytes";

/**
 * Goal: node:crypto's Ed25519 (the fast path) and tweetnacl (an independent RFC 8032
 * implementation) agree byte for byte. Method: derive keys from the same seeds, sign the same
 * messages with both, and verify each one's signatures with the other. tweetnacl verifies about 95
 * signatures a second, so its verifications are kept to a few dozen.
 */
describe("Ed25519 on node:crypto agrees with tweetnacl", () => {
  const messageLengths = [0, 1, 31, 32, 33, 64, 127, 1000, 4096];

  test.each(messageLengths)("a %i-byte message: same public key, same signature, each verifies the other's", (length) => {
    const seed = pseudoRandomBytes(`seed/${length}`, SEED_BYTES);
    const message = pseudoRandomBytes(`message/${length}`, length);
    const naclKeys = nacl.sign.keyPair.fromSeed(seed);

    const publicKey = publicKeyFromSeed(seed);
    expect(publicKey.length).toBe(PUBLIC_KEY_BYTES);
    expect(publicKey.equals(Buffer.from(naclKeys.publicKey))).toBe(true);

    const nodeSignature = signEd25519(privateKeyObject(seed), message);
    const naclSignature = Buffer.from(nacl.sign.detached(message, naclKeys.secretKey));
    expect(nodeSignature.length).toBe(SIGNATURE_BYTES);
    // Ed25519 is deterministic: the same key and message give the same signature.
    expect(nodeSignature.equals(naclSignature)).toBe(true);

    expect(nacl.sign.detached.verify(message, nodeSignature, naclKeys.publicKey)).toBe(true);
    expect(verifyEd25519(publicKeyObject(publicKey), message, naclSignature)).toBe(true);
  });

  test("a flipped bit in the signature or the message fails in both implementations", () => {
    const seed = pseudoRandomBytes("seed/flip", SEED_BYTES);
    const message = pseudoRandomBytes("message/flip", 100);
    const publicKey = publicKeyFromSeed(seed);
    const signature = signEd25519(privateKeyObject(seed), message);
    // Bits in R, in S, in the last byte of S, and in the first and last bytes of the message.
    const cases: Array<{ what: string; message: Buffer; signature: Buffer }> = [
      { what: "signature bit 0", message, signature: flipBit(signature, 0) },
      { what: "signature bit 300", message, signature: flipBit(signature, 300) },
      { what: "signature bit 511", message, signature: flipBit(signature, 511) },
      { what: "message bit 0", message: flipBit(message, 0), signature },
      { what: "message bit 799", message: flipBit(message, 799), signature },
    ];
    for (const flipped of cases) {
      expect([flipped.what, verifyEd25519(publicKeyObject(publicKey), flipped.message, flipped.signature)]).toEqual([flipped.what, false]);
      expect([flipped.what, nacl.sign.detached.verify(flipped.message, flipped.signature, publicKey)]).toEqual([flipped.what, false]);
    }
  });

  test("a signature of the wrong length does not verify and does not throw", () => {
    const seed = pseudoRandomBytes("seed/length", SEED_BYTES);
    const signature = signEd25519(privateKeyObject(seed), Buffer.alloc(0));
    const key = publicKeyObject(publicKeyFromSeed(seed));
    expect(verifyEd25519(key, Buffer.alloc(0), signature.subarray(0, 63))).toBe(false);
    expect(verifyEd25519(key, Buffer.alloc(0), Buffer.concat([signature, Buffer.alloc(1)]))).toBe(false);
    expect(verifyEd25519(key, Buffer.alloc(0), Buffer.alloc(0))).toBe(false);
  });

  test("random seeds and messages: node:crypto and tweetnacl give the same bytes (fast-check, seed printed on failure)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: SEED_BYTES, maxLength: SEED_BYTES }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        (seed, message) => {
          const naclKeys = nacl.sign.keyPair.fromSeed(seed);
          const nodeSignature = signEd25519(privateKeyObject(seed), message);
          expect(publicKeyFromSeed(seed).equals(Buffer.from(naclKeys.publicKey))).toBe(true);
          expect(nodeSignature.equals(Buffer.from(nacl.sign.detached(message, naclKeys.secretKey)))).toBe(true);
          expect(nacl.sign.detached.verify(message, nodeSignature, naclKeys.publicKey)).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });
});
