/**
 * {@linkcode StreamLayer}: streaming calls on top of the call layer. A
 * streaming call is an ordinary request, announced by a `$/stream`
 * notification just before it; items, credit and progress travel as `$/`
 * notifications (docs/protocol.md). The call's response ends the stream, so
 * ids, timeouts, cancellation and the channel closing work as for any call.
 * In this file: the public types (`IpcCallStream`, `IpcStreamOptions`), the
 * notifications, the callee's side ({@linkcode StreamProducer}: pulls the
 * generator within its credit) and the caller's ({@linkcode StreamConsumer}:
 * buffers, gives credit).
 *
 * @module
 */

import { integerOption } from "../internal/check_option.ts";
import type { CallId } from "./jsonrpc.ts";
import { type IncomingCall, PEER_DONE, type PeerDoneOption } from "./call.ts";
import type { IpcRequestOptions } from "./types.ts";
import { AsyncQueue } from "../internal/async_queue.ts";
import { IpcCancelledError, streamProtocolError } from "../errors.ts";

/** The most items a stream's peer may send ahead when `highWaterMark` is not given. */
export const DEFAULT_HIGH_WATER_MARK = 1024;
/** About the most bytes of items a stream's peer may send ahead when `highWaterMarkBytes` is not given. */
export const DEFAULT_HIGH_WATER_MARK_BYTES = 1024 * 1024;

/** What a streaming call adds to the request that carries it. */
export interface StreamHooks {
  /** Runs with the call's id just before the request is sent. */
  announce(id: number): void;
  /** The message of the call's timeout, from what the stream received. */
  timeoutMessage(timeout: number, receiveBufferFull: boolean): string;
}

/** What the stream layer needs from the call layer. */
export interface StreamCalls {
  /** Sends one message. */
  send(message: unknown): Promise<void>;
  /** Makes a call, a stream's when `stream` is given. */
  request(
    method: string,
    params: unknown,
    options: IpcRequestOptions | undefined,
    stream: StreamHooks,
  ): Promise<unknown>;
  /** Fails call `id` and cancels it in the peer (a peer that broke the protocol). */
  fail(id: number, error: unknown): void;
}

const noop = () => {};

/** The streaming calls of one channel, both ways; see the module documentation. */
export class StreamLayer {
  #calls: StreamCalls;
  #consumers = new Map<CallId, StreamConsumer<unknown, unknown>>();
  #producers = new Map<CallId, StreamProducer>();
  #onProgress = new Map<CallId, (value: unknown) => void>();
  /** The last `$/stream` announcement, waiting for its request. */
  #announced: { id: CallId; credit: number } | undefined;

  /** @param calls The call layer, seen through what streams need. */
  constructor(calls: StreamCalls) {
    this.#calls = calls;
  }

  /**
   * Calls `method` in the peer and streams what its generator yields; see
   * `IpcJsonStream.stream()`.
   */
  open<T, R>(
    method: string,
    params: unknown,
    options: IpcStreamOptions | undefined,
  ): IpcCallStream<T, R> {
    const highWaterMark = integerOption(
      "The stream",
      "highWaterMark",
      options?.highWaterMark,
      DEFAULT_HIGH_WATER_MARK,
    );
    const highWaterMarkBytes = integerOption(
      "The stream",
      "highWaterMarkBytes",
      options?.highWaterMarkBytes,
      DEFAULT_HIGH_WATER_MARK_BYTES,
    );
    let id: number | undefined;
    const window = { items: highWaterMark, bytes: highWaterMarkBytes };
    const consumer = new StreamConsumer<T, R>(method, window, {
      grant: (credit) =>
        this.#calls.send(streamNotification(CREDIT_METHOD, { id, credit }))
          .then(undefined, noop),
      broken: (error) => {
        if (id !== undefined) this.#calls.fail(id, error);
      },
    });
    const signal = options?.signal === undefined
      ? consumer.cancelSignal
      : AbortSignal.any([options.signal, consumer.cancelSignal]);
    const callOptions: IpcRequestOptions & PeerDoneOption = {
      signal,
      timeout: options?.timeout,
      onProgress: options?.onProgress,
      [PEER_DONE]: (options as PeerDoneOption | undefined)?.[PEER_DONE],
    };
    const answer = this.#calls.request(method, params, callOptions, {
      announce: (callId) => {
        id = callId;
        this.#consumers.set(
          callId,
          consumer as StreamConsumer<unknown, unknown>,
        );
        this.#calls.send(
          streamNotification(STREAM_METHOD, { id, credit: consumer.credit }),
        ).then(undefined, noop);
      },
      timeoutMessage: (timeout, receiveBufferFull) =>
        consumer.timeoutMessage(timeout, receiveBufferFull),
    });
    consumer.answer = answer;
    answer.then(
      (result) => consumer.finish(result as R),
      (error) => consumer.fail(error),
    ).finally(() => {
      if (id !== undefined) this.#consumers.delete(id);
    });
    return consumer;
  }

  /**
   * Takes away the `$/stream` announcement of the request `id` just
   * received, for a request that may wait its turn (`maxConcurrentCalls`).
   *
   * @returns What to give back to {@linkcode StreamLayer.swapAnnouncement}.
   */
  takeAnnouncement(id: CallId): unknown {
    const announced = this.#announced;
    if (announced === undefined || announced.id !== id) return undefined;
    this.#announced = undefined;
    return announced;
  }

  /**
   * Puts back an announcement taken away, just before its request runs (or
   * any other pending one after it ran).
   *
   * @returns The announcement it replaced, to put back after.
   */
  swapAnnouncement(announced: unknown): unknown {
    const previous = this.#announced;
    this.#announced = announced as { id: CallId; credit: number } | undefined;
    return previous;
  }

  /**
   * Takes `message` if it is a stream or progress notification; called for
   * messages that are not requests, responses or cancellations. `size` is
   * the message's size in bytes on the wire.
   *
   * @returns `true` when the message was taken.
   */
  intercept(message: unknown, size: number): boolean {
    const notification = classifyStream(message);
    if (notification === undefined) return false;
    switch (notification.kind) {
      case "stream":
        this.#announced = notification;
        break;
      case "credit":
        this.#producers.get(notification.id)?.grant(notification.credit);
        break;
      case "items":
        // Items of a stream this end stopped are dropped.
        this.#consumers.get(notification.id)?.push(notification.values, size);
        break;
      case "progress": {
        const onProgress = this.#onProgress.get(notification.id);
        try {
          onProgress?.(notification.value);
        } catch {
          // Documented: an error thrown by onProgress is ignored.
        }
        break;
      }
    }
    return true;
  }

  /**
   * Hands the progress reports of call `id` to `onProgress` until `answer`
   * settles.
   */
  watchProgress(
    id: CallId,
    onProgress: ((value: unknown) => void) | undefined,
    answer: Promise<unknown>,
  ): void {
    if (onProgress === undefined) return;
    this.#onProgress.set(id, onProgress);
    const forget = () => this.#onProgress.delete(id);
    answer.then(forget, forget);
  }

  /** Sends a progress report of call `id` (`context.progress()`). */
  progress(id: CallId, value: unknown): Promise<void> {
    return this.#calls.send(
      streamNotification(PROGRESS_METHOD, { id, value }),
    );
  }

  /**
   * What a handler returned, for the call layer to answer: a streaming call
   * becomes the promise of its generator's return value, once every item is
   * sent; anything else is returned as it is.
   *
   * @throws {TypeError} When the handler streams but the caller used
   *   `request()`.
   */
  adopt(call: IncomingCall, result: unknown): unknown {
    const announced = this.#announced;
    if (announced === undefined && !isAsyncIterable(result)) return result;
    this.#announced = undefined;
    if (announced === undefined || announced.id !== call.id) {
      if (!isAsyncIterable(result)) return result;
      result[Symbol.asyncIterator]().return?.().then(undefined, noop);
      throw new TypeError(
        `The handler of "${call.method}" streams its results (it returned an async iterable): ` +
          `call it with stream() instead of request().`,
      );
    }
    if (isAsyncIterable(result)) {
      return this.#produce(call, announced.credit, result);
    }
    return Promise.resolve(result).then((resolved) => {
      if (isAsyncIterable(resolved)) {
        return this.#produce(call, announced.credit, resolved);
      }
      throw new TypeError(
        `The handler of "${call.method}" does not stream (it returned no async iterable): ` +
          `call it with request() instead of stream().`,
      );
    });
  }

  async #produce(
    call: IncomingCall,
    credit: number,
    iterable: AsyncIterable<unknown>,
  ): Promise<unknown> {
    const producer = new StreamProducer(
      call.id,
      credit,
      (message) => this.#calls.send(message),
      call.signal,
    );
    this.#producers.set(call.id, producer);
    try {
      return await producer.run(iterable);
    } finally {
      this.#producers.delete(call.id);
    }
  }
}

/**
 * Checks the `onProgress` call option.
 *
 * @throws {TypeError} When it is neither `undefined` nor a function.
 */
export function checkProgressOption(onProgress: unknown): void {
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(
      `The call option onProgress must be a function, got ${typeof onProgress}.`,
    );
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[
        Symbol.asyncIterator
      ] === "function";
}

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

/** Caller → callee, just before a request: "the call with this id streams; you may send `credit` items". */
export const STREAM_METHOD = "$/stream";
/** Callee → caller: the next items of a streaming call, in order. */
export const ITEMS_METHOD = "$/stream/items";
/** Caller → callee: `credit` more items may be sent. */
export const CREDIT_METHOD = "$/stream/credit";
/** Callee → caller: a progress report of a call. */
export const PROGRESS_METHOD = "$/progress";

/** What {@linkcode classifyStream} found. */
export type StreamMessage =
  | { kind: "stream"; id: CallId; credit: number }
  | { kind: "credit"; id: CallId; credit: number }
  | { kind: "items"; id: CallId; values: unknown[] }
  | { kind: "progress"; id: CallId; value: unknown };

/**
 * Tells whether `value` is one of the notifications above, well formed.
 *
 * @returns The notification's kind and parts, or `undefined` for anything
 *   else (a malformed one included: it is a plain message).
 */
export function classifyStream(value: unknown): StreamMessage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const method = message.method;
  if (
    typeof method !== "string" || !method.startsWith("$/") ||
    message.jsonrpc !== "2.0" || "id" in message
  ) return undefined;
  const params = message.params;
  if (typeof params !== "object" || params === null) return undefined;
  const fields = params as Record<string, unknown>;
  const id = fields.id;
  if (
    !(typeof id === "string" || (typeof id === "number" && isFinite(id)))
  ) return undefined;
  switch (method) {
    case STREAM_METHOD:
    case CREDIT_METHOD: {
      const credit = fields.credit;
      if (!Number.isSafeInteger(credit) || (credit as number) < 1) {
        return undefined;
      }
      return {
        kind: method === STREAM_METHOD ? "stream" : "credit",
        id,
        credit: credit as number,
      };
    }
    case ITEMS_METHOD: {
      const values = fields.values;
      return Array.isArray(values) && values.length > 0
        ? { kind: "items", id, values }
        : undefined;
    }
    case PROGRESS_METHOD:
      return { kind: "progress", id, value: fields.value };
  }
  return undefined;
}

/** The notification of `method` about call `id`. */
export function streamNotification(
  method: string,
  params: Record<string, unknown>,
): { jsonrpc: "2.0"; method: string; params: Record<string, unknown> } {
  return { jsonrpc: "2.0", method, params };
}

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
      const error = streamProtocolError(
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
