/**
 * {@linkcode StreamLayer}: streaming calls on top of the call layer. A
 * streaming call is an ordinary request, announced by a `$/stream`
 * notification just before it; items, credit and progress travel as `$/`
 * notifications (see `stream_messages.ts` and docs/protocol.md). The call's
 * response ends the stream, so ids, timeouts, cancellation and the channel
 * closing work as for any call.
 *
 * @module
 */

import { integerOption } from "../internal/check_option.ts";
import type { CallId } from "./jsonrpc.ts";
import type { IncomingCall } from "./incoming_call.ts";
import { StreamConsumer } from "./stream_consumer.ts";
import {
  classifyStream,
  CREDIT_METHOD,
  PROGRESS_METHOD,
  STREAM_METHOD,
  streamNotification,
} from "./stream_messages.ts";
import { StreamProducer } from "./stream_producer.ts";
import { PEER_DONE, type PeerDoneOption } from "./outgoing_call.ts";
import type { IpcCallStream, IpcStreamOptions } from "./stream_types.ts";
import type { IpcRequestOptions } from "./types.ts";

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
