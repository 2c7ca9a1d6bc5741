/**
 * {@linkcode ArrayQueue}: a first-in, first-out queue on an array, whose
 * items may weigh something (their size in bytes).
 *
 * @module
 */

/** The consumed head is dropped once it is this long and half the array. */
const COMPACT_AT = 4096;

/**
 * A first-in, first-out queue: `shift()` moves a head index instead of the
 * array's items, and the consumed head is cut off in one `splice` once it is
 * long, so each item costs O(1) however long the queue grows. Each item may
 * carry a weight; the queue keeps their sum.
 *
 * @typeParam T The type of the items.
 */
export class ArrayQueue<T> {
  #items: (T | undefined)[] = [];
  #weights: number[] = [];
  #head = 0;
  #weight = 0;

  /** Items in the queue. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The summed weight of the items in the queue. */
  get weight(): number {
    return this.#weight;
  }

  /** Adds `item`, weighing `weight`, at the tail. */
  push(item: T, weight = 0): void {
    this.#items.push(item);
    this.#weights.push(weight);
    this.#weight += weight;
  }

  /** The item at the head, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.#head < this.#items.length
      ? this.#items[this.#head]
      : undefined;
  }

  /** The item `index` places after the head; `undefined` past the tail. */
  at(index: number): T | undefined {
    const at = this.#head + index;
    return at < this.#items.length ? this.#items[at] : undefined;
  }

  /** Removes and returns the item at the head; `undefined` when empty. */
  shift(): T | undefined {
    const items = this.#items;
    const head = this.#head;
    if (head === items.length) return undefined;
    const item = items[head];
    items[head] = undefined;
    this.#weight -= this.#weights[head];
    const next = head + 1;
    if (next === items.length) {
      items.length = 0;
      this.#weights.length = 0;
      this.#head = 0;
    } else if (next >= COMPACT_AT && 2 * next >= items.length) {
      items.splice(0, next);
      this.#weights.splice(0, next);
      this.#head = 0;
    } else {
      this.#head = next;
    }
    return item;
  }

  /**
   * Removes the first `count` items (at most `length`) and returns them.
   */
  shiftMany(count: number): T[] {
    const head = this.#head;
    const end = Math.min(head + count, this.#items.length);
    const taken = this.#items.slice(head, end) as T[];
    const weights = this.#weights;
    for (let i = head; i < end; i++) this.#weight -= weights[i];
    if (end === this.#items.length) {
      this.#items.length = 0;
      weights.length = 0;
      this.#head = 0;
    } else {
      this.#items.fill(undefined, head, end);
      this.#head = end;
      if (end >= COMPACT_AT && 2 * end >= this.#items.length) {
        this.#items.splice(0, end);
        weights.splice(0, end);
        this.#head = 0;
      }
    }
    return taken;
  }

  /** Removes every item. */
  clear(): void {
    this.#items.length = 0;
    this.#weights.length = 0;
    this.#head = 0;
    this.#weight = 0;
  }
}
