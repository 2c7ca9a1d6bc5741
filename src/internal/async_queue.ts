/**
 * {@linkcode AsyncQueue}: items that arrive, handed to whoever iterates.
 *
 * @module
 */

import { ArrayQueue } from "./array_queue.ts";

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/** An error delivered in the place of an item. */
class Failure {
  constructor(readonly error: unknown) {}
}

/** What an {@linkcode AsyncQueue} tells its owner. */
export interface AsyncQueueEvents {
  /** An item left the buffer for a reader; `weight` is what remains buffered. */
  taken?(weight: number): void;
  /** The count of readers waiting went from 0 to 1 or from 1 to 0. */
  waitingChanged?(waiting: boolean): void;
}

/**
 * A queue between a producer that pushes items as they arrive and readers
 * that await them: an item goes straight to a waiting reader, or waits in the
 * buffer. Each item carries a weight (its size, for backpressure). `end()`
 * lets the readers take what is buffered, then ends their iteration or
 * throws the error it was given.
 *
 * @typeParam T The type of the items.
 */
export class AsyncQueue<T> {
  #items = new ArrayQueue<T | Failure>();
  #readers = new ArrayQueue<PromiseWithResolvers<IteratorResult<T>>>();
  #ended = false;
  #error: unknown = undefined;
  #events: AsyncQueueEvents;
  #iterator: AsyncIterableIterator<T>;

  /** @param events What to tell the owner. */
  constructor(events: AsyncQueueEvents = {}) {
    this.#events = events;
    const iterator: AsyncIterableIterator<T> = {
      next: () => this.next(),
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => iterator,
    };
    this.#iterator = iterator;
  }

  /** The summed weight of the buffered items. */
  get weight(): number {
    return this.#items.weight;
  }

  /** Items buffered, errors in place included. */
  get length(): number {
    return this.#items.length;
  }

  /** `true` while a reader waits for an item. */
  get waiting(): boolean {
    return this.#readers.length > 0;
  }

  /** `true` once `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The iterator over the items; every call returns the same one. */
  iterator(): AsyncIterableIterator<T> {
    return this.#iterator;
  }

  /** Hands `item` to the first waiting reader, or buffers it with its weight. */
  push(item: T, weight = 0): void {
    if (this.#ended) return;
    if (this.#items.length === 0 && this.#readers.length > 0) {
      this.#settle(item);
      return;
    }
    this.#items.push(item, weight);
  }

  /** Queues an error that the reader who reaches it gets instead of an item. */
  pushError(error: unknown): void {
    this.push(new Failure(error) as unknown as T);
  }

  /** The next item: at once when one is buffered, else when one arrives. */
  next(): Promise<IteratorResult<T>> {
    const items = this.#items;
    if (items.length > 0) {
      const item = items.shift();
      this.#events.taken?.(items.weight);
      if (item instanceof Failure) return Promise.reject(item.error);
      return Promise.resolve({ value: item as T, done: false });
    }
    if (this.#ended) {
      return this.#error === undefined
        ? Promise.resolve(DONE)
        : Promise.reject(this.#error);
    }
    const reader = Promise.withResolvers<IteratorResult<T>>();
    this.#readers.push(reader);
    if (this.#readers.length === 1) this.#events.waitingChanged?.(true);
    return reader.promise;
  }

  /**
   * Ends the queue: readers take what is buffered, then their iteration ends,
   * or rejects with `error` when one is given. Pushes after it are dropped.
   */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (this.#items.length > 0 || this.#readers.length === 0) return;
    for (let reader; (reader = this.#readers.shift()) !== undefined;) {
      if (error === undefined) reader.resolve(DONE);
      else reader.reject(error);
    }
    this.#events.waitingChanged?.(false);
  }

  /** Drops the buffered items for which `keep` returns `false`. */
  retain(keep: (item: T) => boolean): void {
    const kept = new ArrayQueue<T | Failure>();
    const items = this.#items;
    while (items.length > 0) {
      const weight = items.weight;
      const item = items.shift() as T | Failure;
      if (item instanceof Failure || keep(item as T)) {
        kept.push(item, weight - items.weight);
      }
    }
    this.#items = kept;
  }

  /** Drops everything buffered (for a queue nobody will read any more). */
  clear(): void {
    this.#items.clear();
  }

  #settle(item: T | Failure): void {
    const reader = this.#readers.shift()!;
    if (item instanceof Failure) reader.reject(item.error);
    else reader.resolve({ value: item, done: false });
    if (this.#readers.length === 0) this.#events.waitingChanged?.(false);
  }
}
