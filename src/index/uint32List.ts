/** A list of 32-bit unsigned integers in a typed array that doubles when full: reused from search to search, so a search allocates nothing per candidate. */
export class Uint32List {
  values = new Uint32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  clear(): void {
    this.length = 0;
  }
}
