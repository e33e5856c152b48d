import { assert } from "../assert";
import { assertChunk, type KeyRange, type KeyValueStore, type WriteOperation } from "./keyValueStore";

/**
 * Contents keyed by the key's bytes as a latin1 string: one UTF-16 code unit per byte, so that
 * strings compare (<, and the default sort) exactly as Buffer.compare compares the keys.
 */
type Contents = Map<string, Buffer>;

const textOf = (key: Buffer): string => key.toString("latin1");
const keyOf = (text: string): Buffer => Buffer.from(text, "latin1");

export interface MemoryKeyValueStoreOptions {
  /**
   * Called once per write with the function that completes it; the write is applied, and its promise
   * resolves, when that function is called. The simulator completes writes later in virtual time, so
   * that a crash can fall between a write's start and its completion. By default a write completes
   * on the next microtask.
   */
  readonly completeWrite?: (complete: () => void) => void;
}

/**
 * What a simulated disk durably held at one moment: what a restart from it finds. Immutable: it
 * keeps its own copies and hands out copies.
 */
export class DurableImage {
  private readonly contents: ReadonlyMap<string, Buffer>;

  constructor(entries: Iterable<readonly [Buffer, Buffer]>) {
    this.contents = new Map(Array.from(entries, ([key, value]) => [textOf(key), Buffer.from(value)]));
  }

  /** Every entry in key order. */
  entries(): [Buffer, Buffer][] {
    return [...this.contents.keys()].sort().map((text) => [keyOf(text), Buffer.from(this.contents.get(text)!)]);
  }
}

/**
 * The simulated disk: a KeyValueStore in memory whose crashes the simulator controls, with LevelDB's
 * durability. Production uses LevelKeyValueStore; this one exists so that the simulator and the
 * tests run the real store code on a disk they can crash, deterministically (no timers, no
 * randomness: only the injected completeWrite decides when a write completes).
 *
 * The model, as LevelDB on a machine that loses power:
 * - a write is applied, visible to reads, when it completes; writes apply in completion order;
 * - a synced write is durable once it completes, and so is every write completed before it (a
 *   synced write flushes LevelDB's log, earlier records included);
 * - an unsynced write is lost by a crash unless a synced write completed after it;
 * - a write not yet completed at a crash is lost, and its promise never settles.
 * close() syncs nothing (neither does LevelDB's), so a restart after close is a crash after close.
 *
 * It is unbounded and copies on every read and iteration: it holds the small stores of a simulated
 * cluster, where simple and obviously correct matters more than speed.
 */
export class MemoryKeyValueStore implements KeyValueStore {
  /** What reads see: every completed write. */
  private readonly applied: Contents = new Map();
  /** What a crash leaves: the applied contents as of the last completed synced write. */
  private readonly durable: Contents = new Map();
  /** The operations of the writes completed since the last synced one, in completion order. */
  private unsynced: WriteOperation[] = [];
  private status: "open" | "closed" | "crashed" = "open";
  private readonly completeWrite: (complete: () => void) => void;

  constructor(options: MemoryKeyValueStoreOptions = {}) {
    this.completeWrite = options.completeWrite ?? ((complete) => queueMicrotask(complete));
  }

  /** A store whose disk holds `image`: a node restarted after a crash, or restored from an old copy of its disk. */
  static fromImage(image: DurableImage, options: MemoryKeyValueStoreOptions = {}): MemoryKeyValueStore {
    const store = new MemoryKeyValueStore(options);
    store.apply(image.entries().map(([key, value]) => ({ type: "put", key, value })), true);
    return store;
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    this.assertUsable();
    return copyOf(this.applied.get(textOf(key)));
  }

  async getMany(keys: readonly Buffer[]): Promise<(Buffer | undefined)[]> {
    this.assertUsable();
    return keys.map((key) => copyOf(this.applied.get(textOf(key))));
  }

  async *values(range: KeyRange, chunk?: number): AsyncGenerator<Buffer> {
    for await (const [, value] of this.entries(range, chunk)) yield value;
  }

  /**
   * The snapshot is a copy of the entries in range, taken whole: `chunk` is only checked, so that
   * this store refuses what LevelKeyValueStore refuses. Each step checks that the store is still usable.
   */
  async *entries(range: KeyRange, chunk?: number): AsyncGenerator<[Buffer, Buffer]> {
    if (chunk !== undefined) assertChunk(chunk);
    this.assertUsable();
    const gte = range.gte === undefined ? undefined : textOf(range.gte);
    const lt = range.lt === undefined ? undefined : textOf(range.lt);
    const texts = [...this.applied.keys()].filter((text) => (gte === undefined || text >= gte) && (lt === undefined || text < lt)).sort();
    const snapshot = texts.map((text): [Buffer, Buffer] => [keyOf(text), Buffer.from(this.applied.get(text)!)]);
    for (const entry of snapshot) {
      yield entry;
      this.assertUsable();
    }
  }

  /** A write started before close() still completes: LevelDB finishes the writes it accepted. */
  async write(operations: readonly WriteOperation[], { sync }: { readonly sync: boolean }): Promise<void> {
    this.assertUsable();
    // The batch is taken at the call, as LevelDB encodes it: the caller may reuse its buffers.
    const taken = operations.map((operation): WriteOperation =>
      operation.type === "put" ? { type: "put", key: Buffer.from(operation.key), value: Buffer.from(operation.value) } : { type: "del", key: Buffer.from(operation.key) },
    );
    return new Promise((resolve) => {
      let completed = false;
      this.completeWrite(() => {
        assert(!completed, "a write is completed once");
        completed = true;
        if (this.status === "crashed") return;
        this.apply(taken, sync);
        resolve();
      });
    });
  }

  /** Closing twice is harmless, as with LevelDB. */
  async close(): Promise<void> {
    this.assertNotCrashed();
    this.status = "closed";
  }

  /** A copy of what the disk durably holds now, without crashing: the disk as it was at this moment. */
  image(): DurableImage {
    this.assertNotCrashed();
    return new DurableImage([...this.durable].map(([text, value]) => [keyOf(text), value]));
  }

  /**
   * The process died (and the machine with it): returns what the disk durably holds, and leaves this
   * instance unusable. Writes not yet completed are lost; their promises never settle.
   */
  crash(): DurableImage {
    const image = this.image();
    this.status = "crashed";
    return image;
  }

  private apply(operations: readonly WriteOperation[], sync: boolean): void {
    applyTo(this.applied, operations);
    if (!sync) {
      this.unsynced.push(...operations);
      return;
    }
    applyTo(this.durable, this.unsynced);
    applyTo(this.durable, operations);
    this.unsynced = [];
  }

  private assertUsable(): void {
    this.assertNotCrashed();
    if (this.status === "closed") throw new Error("the simulated store is closed");
  }

  private assertNotCrashed(): void {
    if (this.status === "crashed") throw new Error("the simulated store crashed: restart from its image");
  }
}

function applyTo(contents: Contents, operations: readonly WriteOperation[]): void {
  for (const operation of operations) {
    if (operation.type === "put") contents.set(textOf(operation.key), operation.value);
    else contents.delete(textOf(operation.key));
  }
}

function copyOf(value: Buffer | undefined): Buffer | undefined {
  return value === undefined ? undefined : Buffer.from(value);
}
