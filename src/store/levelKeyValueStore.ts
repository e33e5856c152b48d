import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Level } from "level";
import { HashfedError } from "../errors";
import { writeFileAtomically } from "../files/atomicFile";
import { checkJournal } from "./levelJournal";
import { storeDamaged } from "./storeDamaged";
import { assertChunk, type KeyRange, type KeyValueStore, type WriteOperation } from "./keyValueStore";

/**
 * Entries read per native call when the caller names no chunk: what abstract-level's all() reads,
 * large enough that the ~50 µs cost of a call is spread over many entries.
 */
const CHUNK_DEFAULT = 1000;

/** The production KeyValueStore: LevelDB through `level`, keys and values as raw bytes. */
export class LevelKeyValueStore implements KeyValueStore {
  private constructor(private readonly db: Level<Buffer, Buffer>) {}

  /** Opens (creating if needed) the LevelDB at `path`; fails, as an operating error, if it is locked or unreadable. */
  static async open(path: string): Promise<LevelKeyValueStore> {
    const marked = await readFile(join(path, DAMAGED_MARK), "utf8").catch(() => undefined);
    if (marked !== undefined) throw journalDamaged(path, marked.trim());
    // Found twice, at the same place: a process that has the store open may have been between
    // journals (its open below then says the store is in use).
    const damage = await journalDamage(path);
    if (damage !== undefined && (await journalDamage(path)) === damage) {
      // Before LevelDB opens it: its replay would drop the record, and the next open find nothing wrong.
      await writeFileAtomically(join(path, DAMAGED_MARK), `${damage}\n`, { mode: 0o600 });
      throw journalDamaged(path, damage);
    }
    const db = new Level<Buffer, Buffer>(path, { keyEncoding: "buffer", valueEncoding: "buffer" });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      // LevelDB's own words for a store another process has open.
      if ((error as { code?: string }).code === "LEVEL_LOCKED" || /\block\b.*(temporarily unavailable|already held)/i.test(cause)) {
        throw new HashfedError("precondition", "STORE_IN_USE", `another process (a node already running?) has the store at ${path} open; stop it first, or give this node a data folder of its own`);
      }
      throw new HashfedError("unavailable", "STORE_OPEN_FAILED", `cannot open the store at ${path}: ${cause}`);
    }
    return new LevelKeyValueStore(db);
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.db.get(key);
  }

  getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    return this.db.getMany([...keys]);
  }

  async *values(range: KeyRange, chunk = CHUNK_DEFAULT): AsyncGenerator<Buffer> {
    assertChunk(chunk);
    const iterator = this.db.values(levelRange(range));
    try {
      for (let values = await iterator.nextv(chunk); values.length > 0; values = await iterator.nextv(chunk)) yield* values;
    } finally {
      await iterator.close();
    }
  }

  async *entries(range: KeyRange, chunk = CHUNK_DEFAULT): AsyncGenerator<[Buffer, Buffer]> {
    assertChunk(chunk);
    const iterator = this.db.iterator(levelRange(range));
    try {
      for (let entries = await iterator.nextv(chunk); entries.length > 0; entries = await iterator.nextv(chunk)) yield* entries;
    } finally {
      await iterator.close();
    }
  }

  /**
   * One atomic write, through a chained batch: abstract-level's array form copies and re-checks
   * every operation in JavaScript, five to ten times the main-thread cost for a batch of thousands.
   */
  async write(operations: readonly WriteOperation[], { sync }: { readonly sync: boolean }): Promise<void> {
    const batch = this.db.batch();
    try {
      for (const operation of operations) {
        if (operation.type === "put") batch.put(operation.key, operation.value);
        else batch.del(operation.key);
      }
    } catch (error) {
      await batch.close();
      throw error;
    }
    await batch.write({ sync });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** abstract-level reads a present but undefined bound as a key, so only the bounds given are passed. */
function levelRange({ gte, lt }: KeyRange): KeyRange {
  return { ...(gte === undefined ? {} : { gte }), ...(lt === undefined ? {} : { lt }) };
}

/** A file left in a store whose journal was found damaged: the store is refused from then on. */
const DAMAGED_MARK = "DAMAGED";

/**
 * What is wrong with the store's journals, if anything: see checkJournal. Only the last journal
 * with anything in it may end in a torn write (an open that a crash cut short leaves a new, empty
 * journal after it).
 */
async function journalDamage(path: string): Promise<string | undefined> {
  const names = await readdir(path).catch(() => [] as string[]);
  const numbered = names.filter((name) => /^\d+\.log$/.test(name)).sort((a, b) => Number(a.slice(0, -4)) - Number(b.slice(0, -4)));
  // A journal gone since the listing: LevelDB removed it, for another process has the store open (its open then says so).
  const journals: { name: string; bytes: Uint8Array }[] = [];
  for (const name of numbered) {
    const bytes = await readFile(join(path, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw new HashfedError("unavailable", "STORE_OPEN_FAILED", `cannot read the store's journal ${join(path, name)}: ${error.message}`);
    });
    if (bytes !== undefined) journals.push({ name, bytes });
  }
  const lastWritten = journals.reduce((last, journal, i) => (journal.bytes.length > 0 ? i : last), -1);
  for (const [i, { name, bytes }] of journals.entries()) {
    const state = checkJournal(bytes, i >= lastWritten);
    if (!state.sound) return `${state.what} (${name}, byte ${state.offset})`;
  }
  return undefined;
}

function journalDamaged(path: string, what: string): HashfedError {
  return storeDamaged(`its LevelDB journal at ${path} has ${what} (LevelDB would drop it, and with it a batch this node acknowledged or a vote it signed)`);
}
