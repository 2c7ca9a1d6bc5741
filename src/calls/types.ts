/**
 * The types of calls: the options of one call, the context and shape of a
 * handler, and a set of handlers by method name.
 *
 * @module
 */

/**
 * Options of one call made with `request()`.
 *
 * @example Give up after 2 s, or when the user cancels
 * ```ts
 * import { IpcJsonStream, type IpcRequestOptions } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * const cancel = new AbortController();
 * const options: IpcRequestOptions = { timeout: 2000, signal: cancel.signal };
 * console.log(await caller.request("ping", undefined, options)); // "pong"
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcRequestOptions {
  /**
   * Aborting it rejects the call at once with the signal's `reason` and
   * cancels it in the peer, whose handler's `signal` fires.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait for the answer; then the call rejects with
   * {@linkcode IpcTimeoutError} and is cancelled in the peer. No limit by
   * default.
   */
  timeout?: number;
  /**
   * Called with each value the peer's handler reports with
   * `context.progress(value)`, in order, until the call settles. An error it
   * throws is ignored.
   */
  onProgress?: (value: unknown) => void;
}

/**
 * What a handler is told besides the call's parameters.
 *
 * @example A handler that stops when the call is cancelled
 * ```ts
 * import type { IpcCallContext } from "@tether/ipc";
 *
 * async function countTo(n: number, { signal, method }: IpcCallContext): Promise<number> {
 *   let i = 0;
 *   while (i < n) {
 *     signal.throwIfAborted(); // the caller gave up: stop
 *     i++;
 *     if (i % 1000 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
 *   }
 *   console.log(`${method} done`);
 *   return i;
 * }
 * ```
 */
export interface IpcCallContext {
  /** The method called. */
  readonly method: string;
  /** The call's JSON-RPC id, as the caller chose it. */
  readonly id: number | string;
  /**
   * Fires when the answer is no longer wanted: the caller cancelled the call
   * (its `reason` is an {@linkcode IpcCancelledError}) or the channel closed
   * (an `IpcClosedError`). Stop the work then; an answer is ignored.
   */
  readonly signal: AbortSignal;
  /**
   * Reports progress to the caller, whose `onProgress` gets `value` (a
   * `$/progress` notification). Does nothing once the call was cancelled.
   * It may be destructured (`{ progress }`). The promise it returns resolves
   * when the report is written or queued, as `send()` does, and rejects with
   * a `TypeError` when the value cannot be sent.
   */
  readonly progress: (value: unknown) => Promise<void>;
}

/**
 * Answers calls of one method: given the call's `params` (any JSON value, or
 * `undefined` when the caller sent none), returns the result or a promise of
 * it. A thrown error or rejection is sent to the caller, which rejects with
 * an {@linkcode IpcRemoteError}. A result of `undefined` reaches the caller
 * as `null`, as JSON has no `undefined`.
 *
 * @typeParam P The type of the parameters (not checked: validate them if the
 *   peer is not trusted).
 * @typeParam R The type of the result.
 *
 * @example
 * ```ts
 * import type { IpcHandler } from "@tether/ipc";
 *
 * const add: IpcHandler<{ a: number; b: number }, number> = ({ a, b }) => a + b;
 * const later: IpcHandler<{ ms: number }, string> = ({ ms }, { signal }) =>
 *   new Promise((resolve, reject) => {
 *     const timer = setTimeout(() => resolve("done"), ms);
 *     signal.addEventListener("abort", () => {
 *       clearTimeout(timer);
 *       reject(signal.reason);
 *     });
 *   });
 * ```
 */
export type IpcHandler<P = unknown, R = unknown> = (
  params: P,
  context: IpcCallContext,
) => R | Promise<R>;

/**
 * Handlers by method name, as `serveParentCalls()` takes them.
 *
 * @example
 * ```ts
 * import type { IpcHandlers } from "@tether/ipc";
 *
 * const handlers: IpcHandlers = {
 *   upper: (text: string) => text.toUpperCase(),
 *   add: ({ a, b }: { a: number; b: number }) => a + b,
 * };
 * console.log(Object.keys(handlers)); // ["upper", "add"]
 * ```
 */
export type IpcHandlers = Record<string, IpcHandler<never>>;
