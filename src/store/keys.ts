import { assert } from "../assert";

/**
 * The key layout of a node's LevelDB: one prefix byte per kind of record, then fixed-width
 * big-endian numbers so that keys sort in log order.
 */
export enum KeyPrefix {
  /** E | u64 index -> encoded LogEntry (the Merkle leaf) */
  Entry = 0x45,
  /** R | u64 index -> encoded Reveal (AddSignal entries only; members only) */
  Reveal = 0x52,
  /** N | u8 level | u64 index -> 32-byte hash of the perfect subtree */
  Node = 0x4e,
  /** C | u64 tree size -> cosigned checkpoint (signed note, UTF-8) */
  Checkpoint = 0x43,
  /** B | u64 height -> encoded CommittedBatch (header and commit certificate) */
  Batch = 0x42,
  /** S | u64 height -> encoded BatchSummary (what a start-up replay needs from the batch) */
  Summary = 0x53,
  /** V | u64 sequence -> encoded Evidence (two conflicting messages signed by one validator) */
  Evidence = 0x56,
  /** H -> encoded ChainHeadRecord */
  Head = 0x48,
  /** F -> the 32-byte id of the federation this store belongs to */
  Federation = 0x46,
  /** M -> the name of the member whose node this store is (UTF-8) */
  Member = 0x4d,
}

const U64_BOUND = 1n << 64n;
const SAFE_INTEGER_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export function numberKey(prefix: KeyPrefix, value: bigint): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = prefix;
  writeU64(key, 1, value, "a key number");
  return key;
}

export function nodeKey(level: number, index: bigint): Buffer {
  assert(Number.isInteger(level) && level >= 0 && level < 64, `a node level is 0..63, got ${level}`);
  const key = Buffer.allocUnsafe(10);
  key[0] = KeyPrefix.Node;
  key[1] = level;
  writeU64(key, 2, index, "a node index");
  return key;
}

/**
 * Writes `value` big-endian. Numbers in keys (indexes, heights) stay far below 2^53, and those are
 * written as two u32s: writeBigUInt64BE's bigint arithmetic made a few bigints per key, a quarter
 * of the commit path's garbage at about four keys per committed entry.
 */
function writeU64(key: Buffer, offset: number, value: bigint, what: string): void {
  assert(value >= 0n && value < U64_BOUND, `${what} is a u64, got ${value}`);
  if (value > SAFE_INTEGER_MAX) {
    key.writeBigUInt64BE(value, offset);
    return;
  }
  const number = Number(value);
  key.writeUInt32BE(Math.floor(number / 2 ** 32), offset);
  key.writeUInt32BE(number >>> 0, offset + 4);
}

export const HEAD_KEY = Buffer.from([KeyPrefix.Head]);
export const FEDERATION_KEY = Buffer.from([KeyPrefix.Federation]);
export const MEMBER_KEY = Buffer.from([KeyPrefix.Member]);
