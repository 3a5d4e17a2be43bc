/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): newest entry first, each entry counted as
 * name + value + 32 octets, oldest entries evicted when a new one or a smaller size needs room.
 * A ring buffer: adding and evicting never shift the others.
 *
 * @example
 * ```ts
 * const t = new DynamicTable(4096);
 * t.add('custom-key', 'custom-header'); // 55 octets counted
 * t.find('custom-key', 'custom-header'); // 0: the newest entry
 * ```
 */
export class DynamicTable {
  /** Current size in octets (§4.1). */
  size = 0;
  maxSize: number;
  // The first add() grows these to 16 slots, whatever they start as (mutants of these are equivalent).
  // Stryker disable next-line ArrayDeclaration
  #names: string[] = [];
  // Stryker disable next-line ArrayDeclaration
  #values: string[] = [];
  /** Entries whose name or value is not a valid HTTP field (RFC 9113 §8.2.1), by slot. */
  // Stryker disable next-line ArrayDeclaration
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
    // Stryker disable next-line EqualityOperator: one slot past the count holds '' (evicted or spare), never a name
    for (let i = 0; i < this.#count; i++) {
      const slot = (this.#head - i + cap) % cap;
      if (this.#names[slot] === name) {
        if (this.#values[slot] === value) return i;
        if (nameOnly < 0) nameOnly = i;
      }
    }
    // Stryker disable next-line ConditionalExpression: -(-1) - 2 is -1 too
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
    // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty table has size 0, never above a size
    while (this.#count > 0 && this.size > maxSize) this.#evict();
  }

  #evict(): void {
    const cap = this.#names.length;
    const oldest = (this.#head - this.#count + 1 + cap) % cap;
    this.size -= this.#names[oldest]!.length + this.#values[oldest]!.length + 32;
    // Freed for the collector (a value may be large); a freed slot is never read, so what is written is
    // not observable: Stryker's string mutants here are equivalent.
    // Stryker disable next-line StringLiteral
    this.#names[oldest] = '';
    // Stryker disable next-line StringLiteral
    this.#values[oldest] = '';
    if (this.#invalid[oldest] === true) this.invalidCount--;
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
    // Spare slots: what they hold is never read (find and get stop at the count), and one more or less
    // only moves the next growth. Stryker's mutants of this loop are equivalent.
    // Stryker disable all
    while (names.length < cap) {
      names.push('');
      values.push('');
      invalid.push(false);
    }
    // Stryker restore all
    this.#names = names;
    this.#values = values;
    this.#invalid = invalid;
    this.#head = this.#count - 1;
    // From empty, any start is as good as another modulo the capacity (equivalent mutants).
    // Stryker disable next-line all
    if (this.#head < 0) this.#head = cap - 1;
  }
}
