/**
 * Goal: the worker pool signs and verifies exactly as the in-thread code does, whether a request
 * goes to a worker or (a few signatures) is done in place, and a worker that dies fails only the
 * requests it held: the pool replaces it and keeps serving.
 * Method: real worker threads; results compared with KeySigner and verifyInDomain, for a pool that
 * sends every request to its workers and one that keeps small requests; a request with a
 * malformed key makes a worker throw.
 */
import { randomBytes } from "node:crypto";
import { generateSeed, KeySigner, privateKeyFromSeed, type VerifierKey, verifyInDomain } from "../../src/crypto";
import { Ed25519Pool, IN_THREAD_SIGNATURES_MAX } from "../../src/node/ed25519Pool";

const key = privateKeyFromSeed("videohost.example", generateSeed());
let pool: Ed25519Pool;
let workersOnly: Ed25519Pool;

beforeAll(() => {
  pool = new Ed25519Pool(key, 2);
  workersOnly = new Ed25519Pool(key, 2, 0);
});

afterAll(() => Promise.all([pool.close(), workersOnly.close()]));

test.each([
  ["every request on a worker", () => workersOnly],
  ["small requests in place", () => pool],
])("signs byte-identically to KeySigner, and verifies as verifyInDomain does (%s)", async (_, poolOf) => {
  const pool = poolOf();
  const messages = Array.from({ length: 50 }, (_, i) => randomBytes(i * 7));
  const signatures = await pool.sign("statement", messages);
  const signer = new KeySigner(key);
  messages.forEach((message, i) => expect(signatures[i]).toEqual(signer.sign("statement", message)));
  const tampered = Buffer.from(signatures[3]!);
  tampered[0]! ^= 1;
  const checks = [
    { key: key.verifierKey, bytes: messages[1]!, signature: signatures[1]! },
    { key: key.verifierKey, bytes: messages[2]!, signature: signatures[1]! },
    { key: key.verifierKey, bytes: messages[3]!, signature: tampered },
    { key: key.verifierKey, bytes: messages[4]!, signature: signatures[4]!.subarray(0, 10) },
  ];
  expect(await pool.verify("statement", checks)).toEqual(checks.map((c) => verifyInDomain(c.key, "statement", c.bytes, c.signature)));
  expect(await pool.verify("vote", [checks[0]!])).toEqual([false]);
  // Request sizes on both sides of the in-place limit give the same answers.
  for (const size of [1, IN_THREAD_SIGNATURES_MAX, IN_THREAD_SIGNATURES_MAX + 1]) {
    const some = messages.slice(10, 10 + size);
    expect(await pool.sign("statement", some)).toEqual(some.map((message) => signer.sign("statement", message)));
    const someChecks = [...checks, ...checks].slice(0, size);
    expect(await pool.verify("statement", someChecks)).toEqual(someChecks.map((c) => verifyInDomain(c.key, "statement", c.bytes, c.signature)));
  }
});

test("a worker that dies fails its own request only; the pool goes on with a replacement", async () => {
  const broken = { ...key.verifierKey, publicKey: Buffer.alloc(5) } as VerifierKey;
  const failing = workersOnly.verify("statement", [{ key: broken, bytes: Buffer.alloc(1), signature: Buffer.alloc(64) }]);
  await expect(failing).rejects.toThrow();
  for (let i = 0; i < 4; i++) {
    const [signature] = await workersOnly.sign("statement", [Buffer.from([i])]);
    expect(verifyInDomain(key.verifierKey, "statement", Buffer.from([i]), signature!)).toBe(true);
  }
});
