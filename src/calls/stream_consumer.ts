/**
 * {@linkcode StreamConsumer}: the caller's side of one streaming call. It
 * buffers the items the peer sends, hands them to the loop, and gives the
 * peer more credit as the loop consumes them.
 *
 * @module
 */

import { AsyncQueue } from "../internal/async_queue.ts";
import { IpcCancelledError, IpcStreamProtocolError } from "./errors.ts";
import type { IpcCallStream } from "./stream_types.ts";

/** What a consumer needs from the stream layer. */
export interface ConsumerEvents {
  /** Allow the peer `credit` more items. */
  grant(credit: number): void;
}

/** The caller's side of one streaming call; see the module documentation. */
export class StreamConsumer<T, R> implements IpcCallStream<T, R> {
  readonly method: string;
  #queue = new AsyncQueue<T>();
  #highWaterMark: number;
  #events: ConsumerEvents;
  /** Items the peer may send in all, and items it sent. */
  #granted: number;
  #received = 0;
  /** Items consumed that the peer has not been given credit for again. */
  #consumed = 0;
  #result: R | undefined;
  #ended = false;
  #cancel = new AbortController();

  /**
   * @param method The method called.
   * @param highWaterMark The credit given with the call.
   * @param events Where credit goes.
   */
  constructor(method: string, highWaterMark: number, events: ConsumerEvents) {
    this.method = method;
    this.#highWaterMark = highWaterMark;
    this.#granted = highWaterMark;
    this.#events = events;
  }

  /** Fires when the loop leaves early or the peer broke the protocol. */
  get cancelSignal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** An item arrived. */
  push(value: T): void {
    if (this.#ended) return;
    if (++this.#received > this.#granted) {
      const error = new IpcStreamProtocolError(
        this.method,
        `the peer sent item ${this.#received} while only ${this.#granted} were allowed`,
      );
      this.fail(error);
      this.#cancel.abort(error);
      return;
    }
    this.#queue.push(value);
  }

  /** The call ended with the generator's return value. */
  finish(result: R): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#result = result;
    this.#queue.end();
  }

  /** The call failed: the loop gets the buffered items, then `error`. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.end(error);
  }

  async next(): Promise<IteratorResult<T, R | undefined>> {
    const step = await this.#queue.next();
    if (step.done) return { done: true, value: this.#result };
    if (!this.#ended && ++this.#consumed >= (this.#highWaterMark + 1) >> 1) {
      this.#granted += this.#consumed;
      this.#events.grant(this.#consumed);
      this.#consumed = 0;
    }
    return step;
  }

  return(): Promise<IteratorReturnResult<R | undefined>> {
    if (!this.#ended) {
      this.#ended = true;
      this.#queue.clear();
      this.#queue.end();
      this.#cancel.abort(new IpcCancelledError(this.method));
    }
    return Promise.resolve({ done: true, value: this.#result });
  }

  [Symbol.asyncIterator](): IpcCallStream<T, R> {
    return this;
  }
}
