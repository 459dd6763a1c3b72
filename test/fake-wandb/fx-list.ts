import type { LazyList } from './fixture-types.js';

/**
 * A list whose first `baseLength` items are generated from their index (never stored), followed by
 * appended items. Mutating a generated item first pins it (`materialize`), so the change sticks.
 */
export class FxList<T> implements LazyList<T> {
  private readonly pinned = new Map<number, T>();
  private readonly extra: T[] = [];
  private readonly extraIndex = new Map<string, number>();

  constructor(
    private readonly baseLength: number,
    private readonly gen: (index: number) => T,
    private readonly baseIndexOf: (key: string) => number | undefined,
    private readonly keyOf: (item: T) => string,
  ) {}

  static fromArray<T>(items: readonly T[], keyOf: (item: T) => string): FxList<T> {
    const list = new FxList<T>(
      0,
      () => {
        throw new Error('unreachable');
      },
      () => undefined,
      keyOf,
    );
    for (const item of items) list.push(item);
    return list;
  }

  get length(): number {
    return this.baseLength + this.extra.length;
  }

  at(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined;
    const pinned = this.pinned.get(index);
    if (pinned !== undefined) return pinned;
    return index < this.baseLength ? this.gen(index) : this.extra[index - this.baseLength];
  }

  indexOf(key: string): number | undefined {
    const e = this.extraIndex.get(key);
    if (e !== undefined) return this.baseLength + e;
    const i = this.baseIndexOf(key);
    if (i === undefined || i < 0 || i >= this.baseLength) return undefined;
    const item = this.at(i);
    return item !== undefined && this.keyOf(item) === key ? i : undefined;
  }

  get(key: string): T | undefined {
    const i = this.indexOf(key);
    return i === undefined ? undefined : this.at(i);
  }

  /** Appends, or replaces the item with the same key. Returns its index. */
  push(item: T): number {
    const key = this.keyOf(item);
    const existing = this.indexOf(key);
    if (existing !== undefined) {
      this.replace(existing, item);
      return existing;
    }
    this.extraIndex.set(key, this.extra.length);
    this.extra.push(item);
    return this.length - 1;
  }

  /** Pins the item at `index` so later mutations of the returned object persist. */
  materialize(index: number): T {
    const item = this.at(index);
    if (item === undefined) throw new RangeError(`index ${index} out of range`);
    if (index < this.baseLength) this.pinned.set(index, item);
    return item;
  }

  replace(index: number, item: T): void {
    if (index < this.baseLength) this.pinned.set(index, item);
    else this.extra[index - this.baseLength] = item;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) {
      const item = this.at(i);
      if (item !== undefined) yield item;
    }
  }
}
