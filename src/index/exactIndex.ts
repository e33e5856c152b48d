import { FixedKeyTable, type HashSeed } from "../table";

/** Exact-match index for one signal type: raw bytes to the log indexes holding them. */
export class ExactIndex {
  private readonly table: FixedKeyTable;

  constructor(valueBytes: number, seed: HashSeed) {
    this.table = new FixedKeyTable(valueBytes, seed);
  }

  add(value: Uint8Array, logIndex: number): void {
    this.table.insert(value, logIndex);
  }

  lookup(value: Uint8Array): readonly number[] {
    return this.table.all(value);
  }
}
