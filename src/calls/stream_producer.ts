/**
 * {@linkcode StreamProducer}: the callee's side of one streaming call. It
 * pulls the handler's async iterable, sends each value as an item while the
 * caller's credit lasts, and waits for more credit when it runs out.
 *
 * @module
 */

import type { CallId } from "./jsonrpc.ts";
import { ITEM_METHOD, streamNotification } from "./stream_messages.ts";

/** The callee's side of one streaming call; see the module documentation. */
export class StreamProducer {
  readonly id: CallId;
  #credit: number;
  #send: (message: unknown) => Promise<void>;
  #signal: AbortSignal;
  #wake: (() => void) | undefined;

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
   * @throws {unknown} What the iterable threw; a `TypeError` when a value
   *   cannot be sent; the signal's reason when the call was cancelled. In
   *   every case but the first the iterator's `return()` runs first, so a
   *   generator's `finally` runs.
   */
  async run(iterable: AsyncIterable<unknown>): Promise<unknown> {
    const iterator = iterable[Symbol.asyncIterator]();
    const signal = this.#signal;
    const onAbort = () => this.#wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    let finished = false;
    try {
      while (true) {
        while (this.#credit === 0 && !signal.aborted) await this.#granted();
        signal.throwIfAborted();
        const step = await iterator.next();
        if (step.done) {
          finished = true;
          return step.value;
        }
        signal.throwIfAborted();
        this.#credit--;
        await this.#send(
          streamNotification(ITEM_METHOD, { id: this.id, value: step.value }),
        );
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (!finished) await stop(iterator);
    }
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
