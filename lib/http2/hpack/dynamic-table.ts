/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): newest entry first, each entry counted as
 * name + value + 32 octets, oldest entries evicted when a new one or a smaller size needs room.
 * A ring buffer: adding and evicting never shift the others.
 */
export class DynamicTable {
  /** Current size in octets (§4.1). */
  size = 0;
  maxSize: number;
  #names: string[] = [];
  #values: string[] = [];
  /** Entries whose name or value is not a valid HTTP field (RFC 9113 §8.2.1), by slot. */
  #invalid: boolean[] = [];
  /** How many entries are invalid: while 0, indexed fields need no check. */
  invalidCount = 0;
  #head = 0; // slot of the newest entry
  #count = 0;

  constructor(maxSize: number) {
    this.maxSize = maxSize;
  }

  get length(): number {
    return this.#count;
  }

  /** Entry `i` (0 = newest), or undefined. */
  get(i: number): readonly [string, string] | undefined {
    if (i >= this.#count) return undefined;
    const slot = this.#slot(i);
    return [this.#names[slot]!, this.#values[slot]!];
  }

  /** Name of entry `i` (0 = newest); `i` must be valid. */
  nameAt(i: number): string {
    return this.#names[this.#slot(i)]!;
  }

  /** Value of entry `i` (0 = newest); `i` must be valid. */
  valueAt(i: number): string {
    return this.#values[this.#slot(i)]!;
  }

  /** Whether entry `i` (0 = newest) was added as not a valid HTTP field; `i` must be valid. */
  invalidAt(i: number): boolean {
    return this.#invalid[this.#slot(i)] === true;
  }

  #slot(i: number): number {
    const s = this.#head - i;
    return s >= 0 ? s : s + this.#names.length;
  }

  /** Index (0 = newest) of an entry with this name and value, else -(index of one with this name) - 2, else -1. */
  find(name: string, value: string): number {
    let nameOnly = -1;
    const cap = this.#names.length;
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#head - i + cap) % cap;
      if (this.#names[slot] === name) {
        if (this.#values[slot] === value) return i;
        if (nameOnly < 0) nameOnly = i;
      }
    }
    return nameOnly < 0 ? -1 : -nameOnly - 2;
  }

  /**
   * §4.4: an entry larger than the table empties it and is not added. `invalid`: the field is not valid
   * HTTP (HPACK must keep it all the same, to stay in step with the encoder).
   */
  add(name: string, value: string, invalid = false): void {
    const size = name.length + value.length + 32;
    while (this.#count > 0 && this.size + size > this.maxSize) this.#evict();
    if (size > this.maxSize) return;
    if (this.#count === this.#names.length) this.#grow();
    const cap = this.#names.length;
    this.#head = (this.#head + 1) % cap;
    this.#names[this.#head] = name;
    this.#values[this.#head] = value;
    this.#invalid[this.#head] = invalid;
    if (invalid) this.invalidCount++;
    this.#count++;
    this.size += size;
  }

  /** §4.3: a new maximum size, evicting as needed. */
  resize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.#count > 0 && this.size > maxSize) this.#evict();
  }

  #evict(): void {
    const cap = this.#names.length;
    const oldest = (this.#head - this.#count + 1 + cap) % cap;
    this.size -= this.#names[oldest]!.length + this.#values[oldest]!.length + 32;
    this.#names[oldest] = '';
    this.#values[oldest] = '';
    if (this.#invalid[oldest] === true) this.invalidCount--;
    this.#invalid[oldest] = false;
    this.#count--;
  }

  #grow(): void {
    const names: string[] = [];
    const values: string[] = [];
    const invalid: boolean[] = [];
    for (let i = this.#count - 1; i >= 0; i--) {
      const e = this.get(i)!;
      names.push(e[0]);
      values.push(e[1]);
      invalid.push(this.invalidAt(i));
    }
    const cap = Math.max(16, this.#names.length * 2);
    while (names.length < cap) {
      names.push('');
      values.push('');
      invalid.push(false);
    }
    this.#names = names;
    this.#values = values;
    this.#invalid = invalid;
    this.#head = this.#count - 1;
    if (this.#head < 0) this.#head = cap - 1;
  }
}
