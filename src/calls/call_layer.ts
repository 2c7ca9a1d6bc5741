/**
 * The call layer of an {@linkcode IpcJsonStream}: `request()` and `handle()`
 * as JSON-RPC 2.0 over the same channel as plain messages.
 *
 * The stream creates it on the first `request()` or `handle()` and passes it
 * every received message first; it takes the requests, responses and
 * cancellations it recognises (see `jsonrpc.ts`) and leaves every other
 * message to the stream's iterator.
 *
 * @module
 */

import { IpcCancelledError, IpcTimeoutError } from "./call_errors.ts";
import { IpcClosedError } from "./errors.ts";
import {
  type CallId,
  CANCEL_METHOD,
  classify,
  ErrorCode,
  errorFromWire,
  errorToWire,
  type RequestMessage,
  type WireError,
} from "./jsonrpc.ts";
import { LatencyHistogram } from "./latency.ts";
import type { IpcCallStats } from "./stats.ts";
import type { Tracer } from "./trace.ts";

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

/** What the call layer needs from its stream. */
export interface CallChannel {
  /** Sends one message, as `IpcJsonStream.send()`. */
  send(message: unknown): Promise<void>;
  /** The error for doing `action` on the closed channel, naming why it closed. */
  closedError(action: string): IpcClosedError;
}

/** An interval that never fires: ref'd, it keeps the process alive. */
const KEEP_ALIVE_MS = 2 ** 30;
const noop = () => {};

/** The call layer of one stream; see the module documentation. */
export class IpcCalls {
  #channel: CallChannel;
  #tracer: Tracer | undefined;
  /** `false` while the layer exists only to trace: every message is then plain. */
  #active = false;
  #closed = false;
  #nextId = 1;
  #outgoing = new Map<number, OutgoingCall>();
  #incoming = new Map<CallId, IncomingCall>();
  #handlers = new Map<string, IpcHandler<unknown>>();
  #latency = new LatencyHistogram();
  #succeeded = 0;
  #failed = 0;
  #handled = 0;
  #handlerErrors = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #keepingAlive = false;

  /**
   * @param channel The stream, seen through what the layer needs.
   * @param tracer The stream's tracer, if tracing is on.
   */
  constructor(channel: CallChannel, tracer: Tracer | undefined) {
    this.#channel = channel;
    this.#tracer = tracer;
  }

  /**
   * Calls `method` in the peer; see `IpcJsonStream.request()`.
   *
   * @returns The result the peer's handler returned.
   */
  request(
    method: string,
    params: unknown,
    options: IpcRequestOptions | undefined,
  ): Promise<unknown> {
    this.#active = true;
    if (typeof method !== "string") {
      return Promise.reject(
        new TypeError(
          `The method to call must be a string, got ${typeof method}.`,
        ),
      );
    }
    if (this.#closed) {
      this.#failed++;
      return Promise.reject(
        this.#channel.closedError(`call "${method}"`),
      );
    }
    const signal = options?.signal;
    const timeout = options?.timeout;
    const badTimeout = invalidTimeout(timeout);
    if (badTimeout !== undefined) return Promise.reject(badTimeout);
    if (signal?.aborted) {
      this.#failed++;
      return Promise.reject(signal.reason);
    }
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const call = new OutgoingCall(method, resolve, reject, performance.now());
    this.#outgoing.set(id, call);
    this.#updateKeepAlive();
    const message: RequestMessage = params === undefined
      ? { jsonrpc: "2.0", id, method }
      : { jsonrpc: "2.0", id, method, params };
    this.#channel.send(message).then(
      undefined,
      (error) => this.#onRequestNotSent(id, error),
    );
    if (timeout !== undefined && timeout !== Infinity) {
      call.timer = setTimeout(
        () => this.#abandon(id, new IpcTimeoutError(method, timeout)),
        timeout,
      );
    }
    if (signal !== undefined) {
      const onAbort = () => this.#abandon(id, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      call.signal = signal;
      call.onAbort = onAbort;
    }
    return promise;
  }

  /**
   * Registers the handler of `method`; see `IpcJsonStream.handle()`.
   *
   * @returns A function that unregisters it.
   */
  handle(method: string, handler: IpcHandler<never>): () => void {
    this.#active = true;
    if (typeof method !== "string") {
      throw new TypeError(
        `The method to handle must be a string, got ${typeof method}.`,
      );
    }
    if (typeof handler !== "function") {
      throw new TypeError(
        `The handler of "${method}" must be a function, got ${typeof handler}.`,
      );
    }
    if (method.startsWith("$/")) {
      throw new TypeError(
        `Cannot handle "${method}": methods starting with "$/" are reserved for the protocol. Choose another name.`,
      );
    }
    if (this.#handlers.has(method)) {
      throw new TypeError(
        `"${method}" already has a handler. Call the function the first handle() returned to unregister it first.`,
      );
    }
    const registered = handler as IpcHandler<unknown>;
    this.#handlers.set(method, registered);
    this.#updateKeepAlive();
    return () => {
      if (this.#handlers.get(method) !== registered) return;
      this.#handlers.delete(method);
      this.#updateKeepAlive();
    };
  }

  /**
   * Takes `message` if it belongs to the call layer. Called for every
   * received message, before it is queued for the iterator; never throws.
   *
   * @returns `true` when the message was a call, an answer or a
   *   cancellation, so the iterator must not see it.
   */
  intercept(message: unknown): boolean {
    if (this.#tracer !== undefined) this.#tracer.received(message);
    if (!this.#active) return false;
    const call = classify(message);
    if (call === undefined) return false;
    switch (call.kind) {
      case "request":
        this.#onRequest(call.message);
        return true;
      case "response":
        return this.#onResponse(call.id, call.error, call.result);
      case "cancel":
        this.#incoming.get(call.id)?.abort(
          (method) => new IpcCancelledError(method),
        );
        return true;
    }
  }

  /**
   * The channel closed: calls waiting for an answer reject, running handlers
   * are told through their signal, and the process may exit.
   */
  onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    const outgoing = [...this.#outgoing.values()];
    this.#outgoing.clear();
    for (const call of outgoing) {
      this.#failed++;
      call.settle();
      call.reject(
        this.#channel.closedError(`get an answer to the call "${call.method}"`),
      );
    }
    const incoming = [...this.#incoming.values()];
    this.#incoming.clear();
    for (const call of incoming) {
      call.abort((method) =>
        this.#channel.closedError(`answer the call "${method}"`)
      );
    }
    this.#updateKeepAlive();
  }

  /** The figures of the calls made in each direction. */
  stats(): IpcCallStats {
    return {
      inFlight: this.#outgoing.size,
      succeeded: this.#succeeded,
      failed: this.#failed,
      handling: this.#incoming.size,
      handled: this.#handled,
      handlerErrors: this.#handlerErrors,
      latency: this.#latency.summary(),
    };
  }

  // Calls this end makes -------------------------------------------------

  #onResponse(
    id: CallId,
    error: WireError | undefined,
    result: unknown,
  ): boolean {
    const call = typeof id === "number" ? this.#outgoing.get(id) : undefined;
    if (call === undefined) {
      // An answer to a call abandoned after a timeout or an abort is
      // dropped; an id this end never used is not ours: a plain message.
      return Number.isSafeInteger(id) && (id as number) > 0 &&
        (id as number) < this.#nextId;
    }
    this.#outgoing.delete(id as number);
    this.#updateKeepAlive();
    call.settle();
    this.#latency.record(performance.now() - call.start);
    if (error === undefined) {
      this.#succeeded++;
      call.resolve(result);
    } else {
      this.#failed++;
      call.reject(errorFromWire(call.method, error));
    }
    return true;
  }

  /** The caller gave up (timeout or abort): reject now and tell the peer. */
  #abandon(id: number, reason: unknown): void {
    if (!this.#rejectOutgoing(id, reason)) return;
    this.#channel.send({
      jsonrpc: "2.0",
      method: CANCEL_METHOD,
      params: { id },
    }).then(undefined, noop);
  }

  /** `send()` refused the request (not JSON, too large) or the channel closed. */
  #onRequestNotSent(id: number, error: unknown): void {
    this.#rejectOutgoing(id, error);
  }

  /** Forgets call `id` and rejects it; `false` when it had settled already. */
  #rejectOutgoing(id: number, reason: unknown): boolean {
    const call = this.#outgoing.get(id);
    if (call === undefined) return false;
    this.#outgoing.delete(id);
    this.#updateKeepAlive();
    call.settle();
    this.#failed++;
    call.reject(reason);
    return true;
  }

  // Calls the peer makes -------------------------------------------------

  #onRequest(message: RequestMessage): void {
    const { id, method } = message;
    const handler = this.#handlers.get(method);
    if (handler === undefined) {
      this.#handlerErrors++;
      this.#answer(id, {
        jsonrpc: "2.0",
        id,
        error: {
          code: ErrorCode.methodNotFound,
          message: `Method not found: ${method}`,
        },
      });
      return;
    }
    const call = new IncomingCall(method, id);
    this.#incoming.set(id, call);
    this.#updateKeepAlive();
    let result: unknown;
    try {
      result = handler(message.params, call);
    } catch (error) {
      this.#finishIncoming(call, error, true);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        (value) => this.#finishIncoming(call, value, false),
        (error) => this.#finishIncoming(call, error, true),
      );
    } else {
      this.#finishIncoming(call, result, false);
    }
  }

  #finishIncoming(call: IncomingCall, outcome: unknown, threw: boolean): void {
    if (this.#incoming.get(call.id) === call) {
      this.#incoming.delete(call.id);
      this.#updateKeepAlive();
    }
    if (this.#closed) return;
    if (threw) {
      this.#handlerErrors++;
      this.#answer(call.id, {
        jsonrpc: "2.0",
        id: call.id,
        error: errorToWire(outcome),
      });
    } else {
      this.#handled++;
      this.#answer(call.id, {
        jsonrpc: "2.0",
        id: call.id,
        result: outcome === undefined ? null : outcome,
      });
    }
  }

  /** Sends an answer; one that cannot be sent is replaced by an error saying why. */
  #answer(id: CallId, response: unknown): void {
    this.#channel.send(response).then(undefined, (error) => {
      if (
        this.#closed || error instanceof IpcClosedError ||
        !(error instanceof Error)
      ) return;
      this.#channel.send({
        jsonrpc: "2.0",
        id,
        error: {
          code: ErrorCode.internalError,
          message: `The handler's answer could not be sent: ${error.message}`,
          data: { name: error.name },
        },
      }).then(undefined, noop);
    });
  }

  // Keeping the process alive ---------------------------------------------

  /**
   * While a call waits for its answer or a handler is registered, a ref'd
   * interval keeps the process alive, as a pending `receive()` does: the
   * stream itself lets the process exit when nothing reads from it.
   */
  #updateKeepAlive(): void {
    const wanted = !this.#closed &&
      (this.#outgoing.size > 0 || this.#handlers.size > 0 ||
        this.#incoming.size > 0);
    if (wanted === this.#keepingAlive) return;
    this.#keepingAlive = wanted;
    if (wanted) {
      if (this.#keepAlive === undefined) {
        this.#keepAlive = setInterval(noop, KEEP_ALIVE_MS);
      } else {
        this.#keepAlive.ref();
      }
    } else if (this.#closed) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    } else {
      this.#keepAlive?.unref();
    }
  }
}

/** A call this end made, waiting for its answer. */
class OutgoingCall {
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly start: number;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

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

  /** Stops the timer and the abort listener. */
  settle(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.onAbort);
    }
  }
}

/**
 * A call from the peer whose handler runs; it is the handler's context. Its
 * `AbortController` is made only when the handler reads `signal`.
 */
class IncomingCall implements IpcCallContext {
  readonly method: string;
  readonly id: CallId;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  constructor(method: string, id: CallId) {
    this.method = method;
    this.id = id;
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

/** The error for a call `timeout` that is not a positive number, if it is not. */
export function invalidTimeout(
  timeout: number | undefined,
): RangeError | undefined {
  if (timeout === undefined || timeout > 0) return undefined;
  return new RangeError(
    `The timeout of a call must be a positive number of milliseconds, got ${timeout}.`,
  );
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** The call figures of a stream that never made or handled a call. */
export function noCallStats(): IpcCallStats {
  return {
    inFlight: 0,
    succeeded: 0,
    failed: 0,
    handling: 0,
    handled: 0,
    handlerErrors: 0,
    latency: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 },
  };
}
