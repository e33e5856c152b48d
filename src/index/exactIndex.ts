/** Exact-match index for cryptographic hashes (md5, sha256): raw bytes to the log indexes holding them. */
export class ExactIndex {
  private readonly indexesByValue = new Map<string, number[]>();

  add(value: Uint8Array, logIndex: number): void {
    const key = valueKey(value);
    const indexes = this.indexesByValue.get(key);
    if (indexes === undefined) this.indexesByValue.set(key, [logIndex]);
    else indexes.push(logIndex);
  }

  lookup(value: Uint8Array): readonly number[] {
    return this.indexesByValue.get(valueKey(value)) ?? [];
  }
}

function valueKey(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1");
}
