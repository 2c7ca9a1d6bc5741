/**
 * {@linkcode ConnectionSlot}: the connection a reconnecting channel is on
 * now, and those waiting for the next one.
 *
 * @module
 */

import { settlesWithin } from "../internal/deadline.ts";

/**
 * Holds the current connection, or none between two; tasks wait here for
 * the next one, within a deadline or until a signal aborts.
 *
 * @typeParam C The connection.
 */
export class ConnectionSlot<C> {
  #current: C | undefined;
  #ended = false;
  #changed = Promise.withResolvers<void>();
  #waiters = 0;
  #waitersChanged: () => void;

  /**
   * @param first The first connection.
   * @param waitersChanged Told when `waiters` changes.
   */
  constructor(first: C, waitersChanged: () => void) {
    this.#current = first;
    this.#waitersChanged = waitersChanged;
  }

  /** The connection, or `undefined` between two and once ended. */
  get current(): C | undefined {
    return this.#current;
  }

  /** Tasks waiting for a connection. */
  get waiters(): number {
    return this.#waiters;
  }

  /** The connection dropped: the slot is empty until `fill()`. */
  empty(): void {
    this.#current = undefined;
  }

  /** A new connection: the waiting tasks take it. */
  fill(connection: C): void {
    this.#current = connection;
    this.#wake();
  }

  /** No connection will come again: the waiting tasks get `undefined`. */
  end(): void {
    this.#ended = true;
    this.#current = undefined;
    this.#wake();
  }

  /**
   * The connection, waiting for the next one while the slot is empty.
   *
   * @param deadline When to give up (`Date.now()` time), throwing `timedOut()`.
   * @param signal Gives up when it aborts, throwing its reason.
   * @returns The connection, or `undefined` once ended.
   */
  async next(
    deadline = Infinity,
    signal?: AbortSignal,
    timedOut?: () => Error,
  ): Promise<C | undefined> {
    if (this.#current !== undefined || this.#ended) return this.#current;
    signal?.throwIfAborted();
    const aborted = Promise.withResolvers<void>();
    const onAbort = () => aborted.resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#hold(+1);
    try {
      while (this.#current === undefined && !this.#ended) {
        const changed = Promise.race([this.#changed.promise, aborted.promise]);
        const inTime = deadline === Infinity
          ? (await changed, true)
          : await settlesWithin(changed, Math.max(0, deadline - Date.now()));
        signal?.throwIfAborted();
        if (!inTime) throw timedOut?.() ?? new Error("timed out");
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#hold(-1);
    }
    return this.#current;
  }

  /** Counts a task waiting for the connection otherwise (a send). */
  hold<T>(promise: Promise<T>): Promise<T> {
    this.#hold(+1);
    return promise.finally(() => this.#hold(-1));
  }

  #hold(change: number): void {
    this.#waiters += change;
    this.#waitersChanged();
  }

  #wake(): void {
    const changed = this.#changed;
    this.#changed = Promise.withResolvers();
    changed.resolve();
  }
}
