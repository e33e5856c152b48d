import { FixedKeyTable } from "../table";

/** Exact-match index for one signal type: raw bytes to the log indexes holding them. */
export class ExactIndex {
  private readonly table: FixedKeyTable;

  constructor(valueBytes: number) {
    this.table = new FixedKeyTable(valueBytes);
  }

  add(value: Uint8Array, logIndex: number): void {
    this.table.insert(value, logIndex);
  }

  lookup(value: Uint8Array): readonly number[] {
    return this.table.all(value);
  }
}
