/**
 * One call, either way: {@linkcode OutgoingCall}, a call this end made,
 * waiting for its answer; {@linkcode IncomingCall}, a call from the peer,
 * which is its handler's context; {@linkcode checkCallStart}, the checks of
 * a call's options (shared with the pool).
 *
 * @module
 */

import type { CallId } from "./jsonrpc.ts";
import type { IpcCallContext } from "./types.ts";
import { durationOption } from "../internal/check_option.ts";

/**
 * A request option for the library's layers (not in mod.ts): called once
 * the peer is done with the call, so it no longer holds a place there: its
 * answer arrived (also an answer to a call this end gave up on, which comes
 * when the peer's handler really ends), the request was never sent, or the
 * channel closed. An `IpcPool` keeps counting a call on its child until then.
 */
export const PEER_DONE: unique symbol = Symbol("peerDone");

/** Options that may carry {@linkcode PEER_DONE}. */
export interface PeerDoneOption {
  /** See {@linkcode PEER_DONE}. */
  [PEER_DONE]?: () => void;
}

/**
 * A call this end made, waiting for its answer: the one pending-call record
 * of channel and NATS calls, with its deadline and its caller's abort
 * listener set up by {@linkcode OutgoingCall.watch} and torn down by
 * {@linkcode OutgoingCall.settle}.
 */
export class OutgoingCall {
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly start: number;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  #onAbort: (() => void) | undefined = undefined;
  /** Its {@linkcode PEER_DONE} option. */
  peerDone: (() => void) | undefined = undefined;

  constructor(
    method: string,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    start: number,
  ) {
    this.method = method;
    this.resolve = resolve;
    this.reject = reject;
    this.start = start;
  }

  /**
   * Calls `onTimeout(timeout)` once `timeout` ms have passed (never when it is
   * `undefined` or `Infinity`) and `onAbort` with the reason when `signal`
   * aborts, whichever comes first, unless the call settles before.
   */
  watch(
    timeout: number | undefined,
    onTimeout: (timeout: number) => void,
    signal: AbortSignal | undefined,
    onAbort: (reason: unknown) => void,
  ): void {
    if (timeout !== undefined && timeout !== Infinity) {
      this.#timer = setTimeout(() => onTimeout(timeout), timeout);
    }
    if (signal !== undefined) {
      const listener = () => onAbort(signal.reason);
      signal.addEventListener("abort", listener, { once: true });
      this.#signal = signal;
      this.#onAbort = listener;
    }
  }

  /** Stops the deadline and the abort listener; the call has its outcome. */
  settle(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#onAbort !== undefined) {
      this.#signal!.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}

/** Where a handler's progress reports go. */
export interface ProgressSink {
  /** Sends the progress `value` of call `id`. */
  progress(id: CallId, value: unknown): Promise<void>;
}

/**
 * A call from the peer whose handler runs; it is the handler's context. Its
 * `AbortController` is made only when the handler reads `signal`.
 */
export class IncomingCall implements IpcCallContext {
  readonly method: string;
  readonly id: CallId;
  /** The peer cancelled the call (`$/cancelRequest`). */
  peerCancelled = false;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  #sink: ProgressSink | undefined;

  constructor(method: string, id: CallId, sink?: ProgressSink) {
    this.method = method;
    this.id = id;
    this.#sink = sink;
  }

  #progress: ((value: unknown) => Promise<void>) | undefined;

  /** Made on first use, so it can be destructured. */
  get progress(): (value: unknown) => Promise<void> {
    return this.#progress ??= (value) =>
      this.#aborted || this.#sink === undefined
        ? Promise.resolve()
        : this.#sink.progress(this.id, value);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Fires the signal, with the reason `reasonFor` makes from the method. */
  abort(reasonFor: (method: string) => unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reasonFor(this.method);
    this.#controller?.abort(this.#reason);
  }
}

/**
 * Checks that a call may start: its `timeout` is `undefined`, `Infinity` or
 * a positive number of milliseconds, and its `signal` has not aborted.
 *
 * @throws {TypeError} When `timeout` is not a number.
 * @throws {RangeError} When `timeout` is not positive.
 * @throws {unknown} The signal's `reason` when it has aborted.
 *
 * @example
 * ```ts
 * import { checkCallStart } from "./call.ts";
 *
 * checkCallStart(1000, undefined); // fine
 * try {
 *   checkCallStart(-1, undefined);
 * } catch (error) {
 *   console.log(error instanceof RangeError); // true
 * }
 * ```
 */
export function checkCallStart(
  timeout: unknown,
  signal: AbortSignal | undefined,
): void {
  durationOption("The call", "timeout", timeout);
  signal?.throwIfAborted();
}
