/**
 * {@linkcode ArrayQueue}: a first-in, first-out queue on an array.
 *
 * @module
 */

/** The consumed head is dropped once it is this long and half the array. */
const COMPACT_AT = 4096;

/**
 * A first-in, first-out queue: `shift()` moves a head index instead of the
 * array's items, and the consumed head is cut off in one `splice` once it is
 * long, so each item costs O(1) however long the queue grows.
 *
 * @typeParam T The type of the items.
 */
export class ArrayQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Items in the queue. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds `item` at the tail. */
  push(item: T): void {
    this.#items.push(item);
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
    this.#head = head + 1;
    if (head + 1 === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (head + 1 >= COMPACT_AT && 2 * (head + 1) >= items.length) {
      items.splice(0, head + 1);
      this.#head = 0;
    }
    return item;
  }

  /** Removes every item. */
  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }
}
