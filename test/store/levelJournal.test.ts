/**
 * Goal: the journal check tells a crash's torn last write (never acknowledged: safe to drop) from
 * damage to a record that was synced (acknowledged: the store is refused), as LevelDB itself does
 * not. Method: journals built here record by record in LevelDB's format (checksums computed with
 * the module's own maskedCrc32c), then torn or damaged byte by byte.
 */
import { checkJournal, maskedCrc32c } from "../../src/store/levelJournal";

const FULL = 1;

function record(data: Buffer): Buffer {
  const header = Buffer.alloc(7);
  header.writeUInt32LE(maskedCrc32c(Buffer.concat([Buffer.from([FULL]), data])), 0);
  header.writeUInt16LE(data.length, 4);
  header[6] = FULL;
  return Buffer.concat([header, data]);
}

/** Data that ends in no zero byte, as a batch's encoded records rarely do, so that zeros in it are the test's. */
function data(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => 1 + ((i * 31 + seed) % 251)));
}

/** Two records; the second runs from byte 114 to byte 1064, 40 bytes into the sector that starts at 1024. */
function journal(): Buffer {
  return Buffer.concat([record(data(100, 1)), record(data(950, 2))]);
}

function zeroed(bytes: Buffer, from: number, to = bytes.length): Buffer {
  const copy = Buffer.from(bytes);
  copy.fill(0, from, to);
  return copy;
}

test("whole records are sound", () => {
  expect(journal().length).toBe(1064);
  expect(checkJournal(journal(), true)).toEqual({ sound: true });
  expect(checkJournal(journal(), false)).toEqual({ sound: true });
});

test("a last record whose last sector went unwritten is a torn write, however few of its bytes that sector held", () => {
  // Before: fewer than 64 zeros counted as damage, and the node refused to start after such a crash.
  expect(checkJournal(zeroed(journal(), 1024), true)).toEqual({ sound: true });
  expect(checkJournal(zeroed(journal(), 512), true)).toEqual({ sound: true });
});

test("the same torn record in a journal that is not the last written is damage", () => {
  expect(checkJournal(zeroed(journal(), 1024), false)).toEqual({ sound: false, offset: 107, what: "a record that fails its checksum" });
});

test("zeros that start inside a sector are damage: a disk does not leave half a sector unwritten", () => {
  expect(checkJournal(zeroed(journal(), 1030), true)).toEqual({ sound: false, offset: 107, what: "a record that fails its checksum" });
});

test("a bad record with whole records after it in its block is damage, though its tail is zeros from a sector boundary", () => {
  // Before: taken for torn, and LevelDB would have dropped the records after it (acknowledged ones).
  const three = Buffer.concat([journal(), record(data(50, 3))]);
  expect(checkJournal(zeroed(three, 1024, 1064), true)).toEqual({ sound: false, offset: 107, what: "a record that fails its checksum" });
});

test.each([
  ["its length", 508],
  ["its type", 507],
])("an unwritten sector that starts inside the last record's header (at %s) is a torn write", (_, headerAt) => {
  // Before: the zeros were looked for in the record's data only, and such a crash was taken for damage.
  const bytes = Buffer.concat([record(data(headerAt - 7, 1)), record(data(30, 2))]);
  expect(checkJournal(bytes, true)).toEqual({ sound: true });
  expect(checkJournal(zeroed(bytes, 512), true)).toEqual({ sound: true });
  expect(checkJournal(zeroed(bytes, 512), false)).toMatchObject({ sound: false, offset: headerAt });
});

test("a flipped bit in the last record, with its bytes all there, is damage", () => {
  const flipped = journal();
  flipped[600]! ^= 0x04;
  expect(checkJournal(flipped, true)).toEqual({ sound: false, offset: 107, what: "a record that fails its checksum" });
});
