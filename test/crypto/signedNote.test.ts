import fc from "fast-check";
import { HashfedError } from "../../src/errors";
import { parsePrivateKey, parseVerifierKey, privateKeyFromSeed, type VerifierKey } from "../../src/crypto/keys";
import {
  ED25519_NOTE_SIGNATURE_BYTES,
  formatNote,
  type Note,
  NOTE_SIGNATURES_MAX,
  NOTE_TEXT_BYTES_MAX,
  noteSignatureBytes,
  noteSignatureFromBytes,
  noteSignatureLine,
  openNote,
  parseNote,
  parseNoteBytes,
  parseNoteSignatureLine,
  signNoteText,
  verifyNoteSignatures,
} from "../../src/crypto/signedNote";
import { V1, V2, V4 } from "./noteVectors";
import { pseudoRandomBytes } from "./testBytes";

/** The error a call throws, as [kind, code], so a table of cases reads as data. */
function failure(run: () => unknown): [string, string] {
  try {
    run();
  } catch (error) {
    if (error instanceof HashfedError) return [error.kind, error.code];
    throw error;
  }
  return ["none", "no error"];
}

function memberKey(name: string) {
  return privateKeyFromSeed(name, pseudoRandomBytes(`note/${name}`, 32));
}

describe("signed-note vectors (reference/transparency-log.md §3.7)", () => {
  test("V1, the C2SP example, verifies with its verifier key and formats back to the same bytes", () => {
    const key = parseVerifierKey(V1.verifierKey);
    const note = parseNote(V1.note);
    expect(note.text).toBe("This is an example message.\n");
    expect(note.signatures).toHaveLength(1);
    expect(verifyNoteSignatures(note, [key])).toEqual([key]);
    expect(formatNote(note)).toBe(V1.note);
  });

  test("V2, Go's sumdb/note TestSign: the test signer key's verifier key is V2's", () => {
    expect(parsePrivateKey(V2.privateKey).verifierKey.text).toBe(V2.verifierKey);
  });

  test("V2 is reproduced exactly: signing its text with the Go test key gives its signature line", () => {
    const key = parsePrivateKey(V2.privateKey);
    const signature = signNoteText(V2.text, key);
    expect(noteSignatureLine(signature)).toBe(V2.signatureLine);
    const message = formatNote({ text: V2.text, signatures: [signature] });
    expect(message).toBe(`${V2.text}\n${V2.signatureLine}\n`);
    expect(openNote(message, [parseVerifierKey(V2.verifierKey)]).verifiedKeys.map((verified) => verified.text)).toEqual([V2.verifierKey]);
  });

  test("V4, a Tessera checkpoint, verifies with its verifier key", () => {
    const key = parseVerifierKey(V4.verifierKey);
    const { note, verifiedKeys } = openNote(V4.note, [key]);
    expect(note.text).toBe("example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n");
    expect(verifiedKeys).toEqual([key]);
  });
});

describe("verifying signatures", () => {
  const v1Key = parseVerifierKey(V1.verifierKey);
  const v4Key = parseVerifierKey(V4.verifierKey);

  test("tampered text: a known key's signature fails and the whole note is rejected", () => {
    const note = parseNote(V1.note.replace("example message", "example massage"));
    expect(failure(() => verifyNoteSignatures(note, [v1Key]))).toEqual(["unauthenticated", "NOTE_SIGNATURE_INVALID"]);
  });

  test("a tampered signature from a known key rejects the note even beside a valid one", () => {
    const note = parseNote(V1.note);
    const original = note.signatures[0]!;
    const tampered = { ...original, signature: Buffer.from(original.signature) };
    tampered.signature[10] ^= 0x01;
    expect(failure(() => verifyNoteSignatures({ text: note.text, signatures: [original, tampered] }, [v1Key]))).toEqual([
      "unauthenticated",
      "NOTE_SIGNATURE_INVALID",
    ]);
  });

  test("a wrong key id makes the signature unknown: ignored, and with no other signature the note is unverified", () => {
    const signature = parseNote(V1.note).signatures[0]!;
    const wrongId = { ...signature, keyId: Buffer.from("530d903b", "hex") };
    const note: Note = { text: "This is an example message.\n", signatures: [wrongId] };
    expect(verifyNoteSignatures(note, [v1Key])).toEqual([]);
    expect(failure(() => openNote(formatNote(note), [v1Key]))).toEqual(["unauthenticated", "NOTE_UNVERIFIED"]);
  });

  test("a known key id under another name is unknown too (the spec: ignore unless both match)", () => {
    const signature = parseNote(V1.note).signatures[0]!;
    const note: Note = { text: "This is an example message.\n", signatures: [{ ...signature, name: "example.com/bar" }] };
    expect(verifyNoteSignatures(note, [v1Key])).toEqual([]);
  });

  test("signatures by unknown keys are ignored; the known one verifies", () => {
    const text = "example.com/log/testdata\n15\nrKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=\n";
    const stranger = memberKey("stranger.example");
    const note = parseNote(V4.note + noteSignatureLine(signNoteText(text, stranger)) + "\n");
    expect(note.signatures).toHaveLength(2);
    expect(verifyNoteSignatures(note, [v4Key, v1Key])).toEqual([v4Key]);
    // A note verified only against keys that did not sign it: nothing verifies.
    expect(verifyNoteSignatures(parseNote(V1.note), [v4Key])).toEqual([]);
  });

  test("several members' signatures: each distinct key counted once, in signing order", () => {
    const text = "hashfed.example/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    const keys = ["a.example", "b.example", "c.example"].map(memberKey);
    const signatures = keys.map((key) => signNoteText(text, key));
    const note = parseNote(formatNote({ text, signatures: [signatures[2]!, signatures[0]!, signatures[2]!, signatures[1]!] }));
    const verifiers = keys.map((key) => key.verifierKey);
    expect(verifyNoteSignatures(note, verifiers).map((key) => key.name)).toEqual(["c.example", "a.example", "b.example"]);
  });

  test("two different keys sharing name and key id are refused as ambiguous", () => {
    const other = memberKey("example.com/foo").verifierKey;
    const impostor: VerifierKey = { ...other, keyId: v1Key.keyId };
    expect(failure(() => verifyNoteSignatures(parseNote(V1.note), [v1Key, impostor]))).toEqual(["invalid", "NOTE_KEYS_AMBIGUOUS"]);
    // The same key listed twice is not ambiguous.
    expect(verifyNoteSignatures(parseNote(V1.note), [v1Key, v1Key])).toEqual([v1Key]);
  });
});

/**
 * Goal: every malformation is rejected with its own code. Method: start from V1 and change one thing.
 */
describe("parsing rejects malformed notes precisely", () => {
  const signatureLine = V1.note.slice(V1.note.indexOf("—"));
  const text = "This is an example message.\n";

  test.each([
    ["missing final newline", V1.note.slice(0, -1), "NOTE_NO_FINAL_NEWLINE"],
    ["missing blank line", text + signatureLine, "NOTE_NO_BLANK_LINE"],
    ["no signature lines", text + "\n", "NOTE_NO_SIGNATURES"],
    ["an extra newline after the signatures", V1.note + "\n", "NOTE_NO_SIGNATURES"],
    ["a hyphen for the dash", text + "\n" + signatureLine.replace("—", "-"), "NOTE_SIGNATURE_NO_DASH"],
    ["an en dash for the dash", text + "\n" + signatureLine.replace("—", "–"), "NOTE_SIGNATURE_NO_DASH"],
    ["no space after the dash", text + "\n" + signatureLine.replace("— ", "—"), "NOTE_SIGNATURE_NO_DASH"],
    ["no space between name and signature", text + "\n— example.com/foo\n", "NOTE_SIGNATURE_MALFORMED"],
    ["bad base64", text + "\n— example.com/foo not!base64\n", "NOTE_SIGNATURE_BASE64_BAD"],
    ["base64 without its padding", V1.note.replace("aQM=\n", "aQM\n"), "NOTE_SIGNATURE_BASE64_BAD"],
    ["URL-safe base64", V4.note.replace(/M9e0.*=\n$/, (line) => line.replace(/\+/g, "-").replace(/\//g, "_")), "NOTE_SIGNATURE_BASE64_BAD"],
    ["two spaces before the signature", V1.note.replace("foo ", "foo  "), "NOTE_SIGNATURE_BASE64_BAD"],
    ["an empty signature", text + "\n— example.com/foo \n", "NOTE_SIGNATURE_BASE64_BAD"],
    ["a signature of only a key id", text + "\n— example.com/foo Uw2QOg==\n", "NOTE_SIGNATURE_TOO_SHORT"],
    ["a name with '+'", V1.note.replace("— example.com/foo", "— example.com+foo"), "NOTE_SIGNATURE_NAME_BAD"],
    ["an empty name", V1.note.replace("— example.com/foo", "— "), "NOTE_SIGNATURE_NAME_BAD"],
    ["a carriage return in the text", V1.note.replace("message.", "message.\r"), "NOTE_CONTROL_CHARACTER"],
    ["a tab in the text", V1.note.replace("an example", "an\texample"), "NOTE_CONTROL_CHARACTER"],
    ["a NUL in a signature line", V1.note.replace("example.com/foo", "example.com/foo\u0000"), "NOTE_CONTROL_CHARACTER"],
    ["a lone surrogate", V1.note.replace("This", "Th\ud800is"), "NOTE_NOT_UTF8"],
  ])("%s", (_what, message, code) => {
    expect(failure(() => parseNote(message))).toEqual(["invalid", code]);
  });

  test("a blank line between signature lines moves the lines above it into the text, whose signature then fails", () => {
    // The spec splits text from signatures at the last blank line, so this parses; it cannot verify.
    const note = parseNote(V1.note + "\n" + signatureLine);
    expect(note.text).toBe(V1.note);
    expect(failure(() => verifyNoteSignatures(note, [parseVerifierKey(V1.verifierKey)]))).toEqual(["unauthenticated", "NOTE_SIGNATURE_INVALID"]);
  });

  test("an error in a signature line names the line", () => {
    expect(() => parseNote(V1.note + "— example.com/foo not!base64\n")).toThrow(/^signature line 2: /);
  });

  test("bytes that are not UTF-8 are refused, not replaced", () => {
    const bytes = Buffer.from(V1.note, "utf8");
    bytes[3] = 0xff;
    expect(failure(() => parseNoteBytes(bytes))).toEqual(["invalid", "NOTE_NOT_UTF8"]);
    expect(parseNoteBytes(Buffer.from(V1.note, "utf8"))).toEqual(parseNote(V1.note));
  });

  test(`at most ${NOTE_SIGNATURES_MAX} signatures; 16 (the spec's minimum) and ${NOTE_SIGNATURES_MAX} are accepted`, () => {
    expect(parseNote(text + "\n" + signatureLine.repeat(16)).signatures).toHaveLength(16);
    expect(parseNote(text + "\n" + signatureLine.repeat(NOTE_SIGNATURES_MAX)).signatures).toHaveLength(NOTE_SIGNATURES_MAX);
    expect(failure(() => parseNote(text + "\n" + signatureLine.repeat(NOTE_SIGNATURES_MAX + 1)))).toEqual(["invalid", "NOTE_TOO_MANY_SIGNATURES"]);
  });

  test(`a text of at most ${NOTE_TEXT_BYTES_MAX} bytes, counted in UTF-8`, () => {
    const fitting = "a".repeat(NOTE_TEXT_BYTES_MAX - 1) + "\n";
    expect(parseNote(fitting + "\n" + signatureLine).text).toBe(fitting);
    expect(failure(() => parseNote("a" + fitting + "\n" + signatureLine))).toEqual(["invalid", "NOTE_TEXT_TOO_LARGE"]);
    // 'é' is two bytes in UTF-8 but one UTF-16 code unit.
    const wide = "é".repeat(NOTE_TEXT_BYTES_MAX / 2) + "\n";
    expect(failure(() => parseNote(wide + "\n" + signatureLine))).toEqual(["invalid", "NOTE_TEXT_TOO_LARGE"]);
    expect(failure(() => parseNote("a".repeat(2 * 1024 * 1024) + "\n\n" + signatureLine))).toEqual(["invalid", "NOTE_TOO_LARGE"]);
  });

  test("the text may contain blank lines: it ends at the last blank line (the C2SP quasimodo example's shape)", () => {
    const poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n";
    const key = memberKey("quasimodo.example/salvatore");
    const message = formatNote({ text: poem, signatures: [signNoteText(poem, key)] });
    const { note } = openNote(message, [key.verifierKey]);
    expect(note.text).toBe(poem);
  });
});

describe("signing and formatting", () => {
  const key = memberKey("member.example");

  test.each([
    ["a text without a final newline", "origin\n15", "NOTE_TEXT_NO_FINAL_NEWLINE"],
    ["an empty text", "", "NOTE_TEXT_NO_FINAL_NEWLINE"],
    ["a text with a carriage return", "origin\r\n", "NOTE_CONTROL_CHARACTER"],
    ["a text shaped like a statement signing message", "hashfed/v1/statement\nanything\n", "NOTE_TEXT_RESERVED"],
    ["a text shaped like a vote signing message", "hashfed/v1/vote\n", "NOTE_TEXT_RESERVED"],
  ])("refuses to sign %s", (_what, text, code) => {
    expect(failure(() => signNoteText(text, key))).toEqual(["invalid", code]);
  });

  test("a text that merely mentions hashfed/v1/ is signed", () => {
    expect(signNoteText("hashfed/v1/federation.example\n1\n", key).signature).toHaveLength(64);
  });

  test("formatNote refuses a note that parseNote could not read back", () => {
    const signature = signNoteText("ok\n", key);
    expect(failure(() => formatNote({ text: "ok", signatures: [signature] }))).toEqual(["invalid", "NOTE_TEXT_NO_FINAL_NEWLINE"]);
    expect(failure(() => formatNote({ text: "ok\n", signatures: [] }))).toEqual(["invalid", "NOTE_NO_SIGNATURES"]);
    expect(failure(() => formatNote({ text: "ok\n", signatures: [{ ...signature, name: "a b" }] }))).toEqual(["invalid", "NOTE_SIGNATURE_NAME_BAD"]);
    expect(failure(() => formatNote({ text: "ok\n", signatures: [{ ...signature, keyId: Buffer.alloc(3) }] }))).toEqual([
      "invalid",
      "NOTE_SIGNATURE_MALFORMED",
    ]);
  });

  test("a vote's 68 bytes (key id || signature) round-trip into a note signature", () => {
    const signature = signNoteText("origin\n1\nAAAA\n", key);
    const bytes = noteSignatureBytes(signature);
    expect(bytes).toHaveLength(ED25519_NOTE_SIGNATURE_BYTES);
    expect(noteSignatureFromBytes(key.name, bytes)).toEqual(signature);
    expect(failure(() => noteSignatureFromBytes(key.name, bytes.subarray(1)))).toEqual(["invalid", "NOTE_SIGNATURE_MALFORMED"]);
    expect(failure(() => noteSignatureFromBytes("a+b", bytes))).toEqual(["invalid", "NOTE_SIGNATURE_NAME_BAD"]);
  });

  test("a signature line round-trips through parseNoteSignatureLine", () => {
    const signature = signNoteText("origin\n1\nAAAA\n", key);
    expect(parseNoteSignatureLine(noteSignatureLine(signature))).toEqual(signature);
  });

  test("any valid text with signatures formats, parses back to the same note and verifies (fast-check)", () => {
    const keys = ["a.example", "b.example"].map(memberKey);
    // Lines of text without control characters (newlines are added between them), possibly empty.
    const line = fc.string({ unit: "grapheme", maxLength: 20 }).map((value) => value.replace(/[\u0000-\u001f]/g, "?"));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 2 }), (lines, signerCount) => {
        const text = lines.join("\n") + "\n";
        const signers = keys.slice(0, signerCount);
        const message = formatNote({ text, signatures: signers.map((signer) => signNoteText(text, signer)) });
        const note = parseNote(message);
        expect(note.text).toBe(text);
        expect(formatNote(note)).toBe(message);
        expect(verifyNoteSignatures(note, keys.map((signer) => signer.verifierKey))).toHaveLength(signerCount);
      }),
      { numRuns: 200 },
    );
  });
});
