/**
 * The types of streaming calls: the options of `stream()` and the stream it
 * returns.
 *
 * @module
 */

import type { IpcRequestOptions } from "./types.ts";

/**
 * Options of one streaming call made with `stream()`: those of a call, and
 * how far the peer's generator may run ahead of the loop that consumes it.
 *
 * @example Consume a stream with a window of 64 items and a deadline
 * ```ts
 * import { IpcJsonStream, type IpcStreamOptions } from "@tether/ipc";
 *
 * const [there, back] = [new TransformStream(), new TransformStream()];
 * await using caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * await using callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("count", async function* (n: number) {
 *   for (let i = 0; i < n; i++) yield i;
 * });
 * const options: IpcStreamOptions = { highWaterMark: 64, timeout: 10_000 };
 * let sum = 0;
 * for await (const i of caller.stream<number>("count", 100, options)) sum += i;
 * console.log(sum); // 4950
 * ```
 */
export interface IpcStreamOptions extends IpcRequestOptions {
  /**
   * The most items the peer may send that this end has not consumed yet
   * (its credit). The peer's generator waits past it, so a slow loop costs
   * bounded memory on both sides. `timeout` and `signal` cover the whole
   * stream.
   *
   * @default {1024}
   */
  highWaterMark?: number;
  /**
   * About how many bytes of items the peer may send ahead: once the first
   * items have shown their size, the credit is cut so that it covers at most
   * this many bytes (and at least one item). The first 16 items are sent
   * before any size is known.
   *
   * @default {1048576} (1 MiB)
   */
  highWaterMarkBytes?: number;
}

/**
 * The items of a streaming call, in order, for `for await`. Leaving the loop
 * early (`break`, `return`, a throw) cancels the call in the peer: its
 * generator's `finally` runs and its `signal` fires. The iteration ends with
 * the generator's return value (`next()` gives it as the `done` result's
 * `value`), or throws what ended the stream: an {@linkcode IpcRemoteError}
 * when the generator threw, an {@linkcode IpcTimeoutError}, the signal's
 * reason, or an `IpcClosedError` naming why the channel closed.
 *
 * The call starts when `stream()` is called, not when the loop starts.
 *
 * @typeParam T The type of the items.
 * @typeParam R The type of the generator's return value.
 *
 * @example Stop early: the peer's generator is cancelled
 * ```ts
 * import { IpcJsonStream, type IpcCallStream } from "@tether/ipc";
 *
 * const [there, back] = [new TransformStream(), new TransformStream()];
 * await using caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * await using callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("naturals", async function* () {
 *   for (let i = 0; ; i++) yield i;
 * });
 * const naturals: IpcCallStream<number> = caller.stream<number>("naturals");
 * for await (const n of naturals) if (n === 3) break;
 * ```
 */
export interface IpcCallStream<T, R = unknown>
  extends AsyncIterable<T, R | undefined> {
  /** The next item; `done` with the generator's return value at the end. */
  next(): Promise<IteratorResult<T, R | undefined>>;
  /** Stops consuming and cancels the call in the peer, if it is still running. */
  return(): Promise<IteratorReturnResult<R | undefined>>;
  /** The stream itself: it can be iterated once. */
  [Symbol.asyncIterator](): IpcCallStream<T, R>;
}
