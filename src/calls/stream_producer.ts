/**
 * {@linkcode StreamProducer}: the callee's side of one streaming call. It
 * pulls the handler's async iterable while the caller's credit lasts, sends
 * the values as items, and waits for more credit when it runs out.
 *
 * Values the iterable hands over at once (within a few microtasks) are
 * gathered into one `$/stream/items` message, up to {@linkcode MAX_BATCH};
 * as soon as the iterable makes it wait, what was gathered is sent, so an
 * item never waits for the next one.
 *
 * @module
 */

import type { CallId } from "./jsonrpc.ts";
import { ITEMS_METHOD, streamNotification } from "./stream_messages.ts";

/** The most items in one message. */
export const MAX_BATCH = 64;

/** Microtasks to wait for the next value before sending what was gathered. */
const READY_TICKS = 16;

/** The callee's side of one streaming call; see the module documentation. */
export class StreamProducer {
  readonly id: CallId;
  #credit: number;
  #send: (message: unknown) => Promise<void>;
  #signal: AbortSignal;
  #wake: (() => void) | undefined;
  #batch: unknown[] = [];

  /**
   * @param id The call's id.
   * @param credit The items the caller allowed in its announcement.
   * @param send Sends a message on the channel.
   * @param signal The call's signal: it fires when the caller cancels or the
   *   channel closes.
   */
  constructor(
    id: CallId,
    credit: number,
    send: (message: unknown) => Promise<void>,
    signal: AbortSignal,
  ) {
    this.id = id;
    this.#credit = credit;
    this.#send = send;
    this.#signal = signal;
  }

  /** The caller allowed `credit` more items. */
  grant(credit: number): void {
    this.#credit += credit;
    this.#wake?.();
  }

  /**
   * Sends the values of `iterable` as items, in order, until it ends.
   *
   * @returns The iterable's return value, the call's result.
   * @throws {unknown} What the iterable threw (after the items before it);
   *   a `TypeError` when a value cannot be sent (after the items before it);
   *   the signal's reason when the call was cancelled. In every case but the
   *   first the iterator's `return()` runs first, so a generator's `finally`
   *   runs.
   */
  async run(iterable: AsyncIterable<unknown>): Promise<unknown> {
    const iterator = iterable[Symbol.asyncIterator]();
    const signal = this.#signal;
    const onAbort = () => this.#wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    try {
      while (true) {
        if (this.#credit === 0) {
          await this.#flush();
          while (this.#credit === 0 && !signal.aborted) await this.#granted();
        }
        signal.throwIfAborted();
        const next = iterator.next();
        if (this.#batch.length > 0 && !(await settlesSoon(next))) {
          await this.#flush();
        }
        let step: IteratorResult<unknown>;
        try {
          step = await next;
        } catch (error) {
          finished = true; // the iterator ended itself by throwing
          if (!signal.aborted) await this.#flush();
          throw error;
        }
        if (step.done) {
          finished = true;
          await this.#flush();
          return step.value;
        }
        signal.throwIfAborted();
        this.#credit--;
        this.#batch.push(step.value);
        if (this.#batch.length >= MAX_BATCH) await this.#flush();
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (!finished) await stop(iterator);
    }
  }

  /**
   * Sends the gathered items in one message. When that fails (a value JSON
   * cannot carry, a message too large), they are sent one by one, so every
   * item before one that cannot be sent still arrives; that one's error is
   * thrown.
   */
  async #flush(): Promise<void> {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    try {
      await this.#send(this.#items(batch));
    } catch (error) {
      if (batch.length === 1 || this.#signal.aborted) throw error;
      for (const value of batch) await this.#send(this.#items([value]));
    }
  }

  #items(values: unknown[]) {
    return streamNotification(ITEMS_METHOD, { id: this.id, values });
  }

  #granted(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

/** `true` when `promise` settles within a few microtasks. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const done = () => {
    settled = true;
  };
  promise.then(done, done);
  for (let tick = 0; tick < READY_TICKS && !settled; tick++) await undefined;
  return settled;
}

/**
 * Ends `iterator` early, so a generator's `finally` runs. An error its
 * `return()` throws is dropped: the error that stopped the stream is the one
 * reported.
 */
async function stop(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The first error wins.
  }
}
