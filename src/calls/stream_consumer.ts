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
  /** The peer broke the protocol: the call fails, and is cancelled in the peer. */
  broken(error: unknown): void;
}

/** Items sent before any size is known. */
export const INITIAL_CREDIT = 16;

/** How far ahead the peer may run: in items, and about in bytes. */
export interface StreamWindow {
  items: number;
  bytes: number;
}

/**
 * The caller's side of one streaming call; see the module documentation.
 *
 * Credit: the peer may send `granted - consumed` items that the loop has not
 * taken yet. The window that credit is topped up to is `items`, cut to
 * `bytes` divided by the average size of the items seen so far (at least 1),
 * and `INITIAL_CREDIT` (at most) before any item was seen. It is topped up
 * once it has fallen to half the window, in one `$/stream/credit`.
 */
export class StreamConsumer<T, R> implements IpcCallStream<T, R> {
  readonly method: string;
  #queue = new AsyncQueue<T>();
  #limits: StreamWindow;
  #window: number;
  #events: ConsumerEvents;
  /** Items the peer may send in all, items it sent, items the loop took. */
  #granted: number;
  #received = 0;
  #consumed = 0;
  #receivedBytes = 0;
  /** When the last items arrived (`performance.now()`). */
  #lastItemAt = 0;
  #result: R | undefined;
  #ended = false;
  #cancel = new AbortController();
  /** The call's answer: it settles when the call ends in the peer. */
  answer: Promise<unknown> = Promise.resolve();

  /**
   * @param method The method called.
   * @param limits How far ahead the peer may run.
   * @param events Where credit goes.
   */
  constructor(method: string, limits: StreamWindow, events: ConsumerEvents) {
    this.method = method;
    this.#limits = limits;
    this.#window = Math.min(limits.items, INITIAL_CREDIT);
    this.#granted = this.#window;
    this.#events = events;
  }

  /** The credit to announce the call with. */
  get credit(): number {
    return this.#granted;
  }

  /** Fires when the loop leaves early: the caller cancels the call. */
  get cancelSignal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** Items arrived in a message of `size` bytes; those past the credit fail the stream. */
  push(values: T[], size: number): void {
    if (this.#ended) return;
    const allowed = this.#granted - this.#received;
    this.#received += values.length;
    this.#receivedBytes += size;
    this.#lastItemAt = performance.now();
    const { items, bytes } = this.#limits;
    const average = this.#receivedBytes / this.#received;
    this.#window = Math.max(1, Math.min(items, Math.floor(bytes / average)));
    const count = Math.min(values.length, allowed);
    for (let i = 0; i < count; i++) this.#queue.push(values[i]);
    if (count < values.length) {
      const error = new IpcStreamProtocolError(
        this.method,
        `the peer sent item ${this.#received} while only ${this.#granted} were allowed`,
      );
      this.fail(error);
      this.#events.broken(error);
    }
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

  /**
   * The message of the call's timeout, worded by what the stream got: no
   * item; items until the end (the timeout covers the whole stream); items,
   * then none for at least half the timeout (the generator stalled); or
   * items the loop had not taken, which held the generator back.
   *
   * @param timeout The call's timeout, in milliseconds.
   * @param receiveBufferFull Reading was paused behind unread plain messages.
   */
  timeoutMessage(timeout: number, receiveBufferFull: boolean): string {
    const method = JSON.stringify(this.method);
    const cancelled = ", and was cancelled in the peer. ";
    const paused = receiveBufferFull
      ? "Reading from the peer was paused meanwhile: receiveBufferBytes of plain messages lay unread. " +
        `Read them (for await, receive()), or set receiveOverflow: "drop". `
      : "";
    const received = this.#received;
    if (received === 0) {
      return `The streaming call ${method} got no item within its timeout of ${timeout} ms${cancelled}` +
        paused +
        "The timeout covers the whole stream: raise it, or make the generator yield sooner.";
    }
    // A late timer must not make the last item older than the timeout.
    const ago = Math.min(
      timeout,
      Math.round(performance.now() - this.#lastItemAt),
    );
    const untaken = received - this.#consumed;
    const heldBack = untaken > 0 && received >= this.#granted;
    const idle = !heldBack && ago >= timeout / 2;
    return `The streaming call ${method} did not end within its timeout of ${timeout} ms ` +
      `(${received} ${received === 1 ? "item" : "items"} received, ` +
      `the last one ${ago} ms before the timeout` +
      (heldBack
        ? `; ${untaken} of them not yet taken by the loop, which held the generator back`
        : "") +
      `)${cancelled}${paused}` +
      (idle
        ? "The generator had stopped yielding: find what it waits for, or raise the timeout (it covers the whole stream)."
        : "The timeout covers the whole stream, not each item: raise it, or leave it out and stop " +
          "the loop with break or the signal option" +
          (heldBack ? "; or take the items sooner." : "."));
  }

  async next(): Promise<IteratorResult<T, R | undefined>> {
    const step = await this.#queue.next();
    if (step.done) return { done: true, value: this.#result };
    this.#consumed++;
    const top = this.#window - (this.#granted - this.#consumed);
    if (!this.#ended && top >= Math.max(1, this.#window >> 1)) {
      this.#granted += top;
      this.#events.grant(top);
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

/**
 * The answer of the call behind `stream` (as `stream()` returned it): it
 * resolves with the generator's return value, or rejects with what ended the
 * call, once the call ended in the peer, whether or not the loop has taken
 * every item.
 */
export function streamAnswer(
  stream: IpcCallStream<unknown, unknown>,
): Promise<unknown> {
  if (!(stream instanceof StreamConsumer)) {
    throw new TypeError("Not a stream made by stream().");
  }
  return stream.answer;
}
