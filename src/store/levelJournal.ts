/**
 * LevelDB's journal (its write-ahead log, `NNNNNN.log`), read before LevelDB replays it. LevelDB
 * drops a record that fails its checksum and opens without it (`classic-level` sets no paranoid
 * checks): a flipped bit would lose a synced batch, or a vote the validator signed, and the next
 * replay would no longer show it. Format (LevelDB's log_format.md): 32 KiB blocks of records, each a
 * 7-byte header (the masked CRC-32C of the type byte and the data, the data's length as a
 * little-endian u16, the type) and the data; a record too long for the rest of its block is cut into
 * FIRST, MIDDLE.. and LAST fragments; fewer than 7 bytes left in a block are zeros.
 */
const BLOCK_BYTES = 32 * 1024;
const HEADER_BYTES = 7;
const FULL = 1;
const FIRST = 2;
const LAST = 4;
/** A disk writes whole sectors; one a crash left unwritten reads as zeros from its start. */
const SECTOR_BYTES = 512;

export type JournalState = { readonly sound: true } | { readonly sound: false; readonly offset: number; readonly what: string };

/**
 * Whether the journal holds every record it was given. A crash can leave the last journal LevelDB
 * wrote to with its last record torn (cut short, or ending in unwritten sectors, zeros to the end of
 * the file): that write was never acknowledged, since every write here is synced, and it is not
 * damage (`last`: no later journal holds anything). A bad record with anything written after it, or
 * a bad last record with its bytes there (a flipped bit), is.
 */
export function checkJournal(bytes: Uint8Array, last: boolean): JournalState {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let bad: { offset: number; what: string; zeros: boolean } | undefined;
  const unwritten = unwrittenTail(view);
  let at = 0;
  while (at < view.length) {
    const blockLeft = BLOCK_BYTES - (at % BLOCK_BYTES);
    if (blockLeft < HEADER_BYTES || at + HEADER_BYTES > view.length) {
      at += blockLeft;
      continue;
    }
    const length = view.readUInt16LE(at + 4);
    const type = view[at + 6]!;
    const end = at + HEADER_BYTES + length;
    if (type === 0 && length === 0) {
      bad ??= { offset: at, what: "zero bytes where a record belongs", zeros: unwritten(at + HEADER_BYTES) };
    } else if (end > at + blockLeft) {
      bad ??= { offset: at, what: "a record longer than the rest of its block", zeros: false };
    } else if (end > view.length) {
      // Torn, unless a length one bit away gives a record under its checksum: then the length was damaged.
      bad ??= lengthFlipped(view, at, length)
        ? { offset: at, what: "a record whose length was damaged", zeros: false }
        : { offset: at, what: "a record cut short by the end of the file", zeros: true };
    } else if (type < FULL || type > LAST || maskedCrc32c(view.subarray(at + 6, end)) !== view.readUInt32LE(at)) {
      bad ??= { offset: at, what: "a record that fails its checksum", zeros: unwritten(end) };
    } else {
      // A whole record after a bad one: the bad one was not the torn last write.
      if (bad !== undefined && (type === FULL || type === FIRST)) return { sound: false, offset: bad.offset, what: bad.what };
      at = end;
      continue;
    }
    // LevelDB drops the rest of the block after a bad record.
    at += blockLeft;
  }
  if (bad === undefined || (last && bad.zeros)) return { sound: true };
  return { sound: false, offset: bad.offset, what: bad.what };
}

/**
 * Whether the record at `at` checks with one bit of its `length` flipped: its bytes are there, and a
 * damaged length had made it look torn. (A torn write matches one of these 16 lengths by chance
 * about once in 2^28 times.)
 */
function lengthFlipped(view: Buffer, at: number, length: number): boolean {
  const checksum = view.readUInt32LE(at);
  for (let bit = 0; bit < 16; bit++) {
    const end = at + HEADER_BYTES + (length ^ (1 << bit));
    if (end <= view.length && maskedCrc32c(view.subarray(at + 6, end)) === checksum) return true;
  }
  return false;
}

/**
 * Whether a bad record that ends at `recordEnd` ends as a crash leaves a write it cut short: the
 * file is zeros from a sector boundary before that end to the file's end, as an unwritten sector
 * and everything after it read. (A bad record with anything written after it is damage: LevelDB
 * drops the rest of its block, whole records with it. Counting 64 zeros at the record's end instead
 * had taken a torn record that ended fewer than 64 bytes into its unwritten sector, as often as one
 * in eight, for damage, so the node refused to start; and taken a damaged record ending in zeros
 * for torn, whole records after it in its block.) A record damaged in place is told apart unless
 * its own last bytes, and everything after it, were zeros back to a sector boundary.
 */
function unwrittenTail(view: Buffer): (recordEnd: number) => boolean {
  let zerosFrom = view.length;
  while (zerosFrom > 0 && view[zerosFrom - 1] === 0) zerosFrom--;
  const firstUnwrittenSector = Math.ceil(zerosFrom / SECTOR_BYTES) * SECTOR_BYTES;
  return (recordEnd) => firstUnwrittenSector < recordEnd;
}

/** CRC-32C (Castagnoli), reflected, as LevelDB computes it. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** LevelDB stores its checksums masked (rotated and offset), so that a CRC of data holding CRCs stays strong. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
