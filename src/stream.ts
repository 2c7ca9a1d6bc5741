/**
 * {@linkcode IpcJsonStream}: a message channel of newline-delimited JSON over
 * any byte transport.
 *
 * @module
 */

import {
  IpcCalls,
  type IpcHandler,
  type IpcRequestOptions,
  noCallStats,
} from "./calls.ts";
import { IpcClosedError } from "./errors.ts";
import { NdjsonDecoder } from "./ndjson_decoder.ts";
import { encodeJsonMessage } from "./ndjson_encoder.ts";
import type { IpcStreamStats } from "./stats.ts";
import { type IpcTraceFunction, type Tracer, tracerFor } from "./trace.ts";
import type { IpcTransport, IpcTransportSink } from "./transport.ts";
import {
  type IpcByteStreams,
  WebStreamTransport,
} from "./web_stream_transport.ts";

/** Default of {@linkcode IpcJsonStreamOptions.maxMessageBytes}: 128 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** Default of {@linkcode IpcJsonStreamOptions.sendBufferBytes}: 1 MiB. */
export const DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024;
/** Default of {@linkcode IpcJsonStreamOptions.receiveBufferBytes}: 1 MiB. */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 1024 * 1024;

/**
 * A batch of messages is written as soon as it holds this many characters,
 * without waiting for the sender to pause: large enough that a write costs
 * little per message, small enough to keep the pipe busy while the sender
 * goes on serializing.
 */
const FLUSH_CHARS = 64 * 1024;

/** Compact the receive queue once this many consumed slots sit at its head. */
const QUEUE_COMPACT_AT = 4096;

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/** Options of an {@linkcode IpcJsonStream}. */
export interface IpcJsonStreamOptions {
  /**
   * Largest message, in UTF-8 bytes of its JSON, that this end sends or
   * accepts. `send()` refuses a larger message before writing anything; a
   * larger incoming message fails the channel with
   * {@linkcode IpcMessageTooLargeError} without buffering the rest of it.
   *
   * @default {134217728} (128 MiB)
   */
  maxMessageBytes?: number;
  /**
   * How many bytes of sent messages may wait to be written before `send()`
   * returns a promise that waits for the peer to read. This bounds the memory
   * a slow reader can cost the sender.
   *
   * @default {1048576} (1 MiB)
   */
  sendBufferBytes?: number;
  /**
   * How many bytes of received messages may wait, parsed, for the iterator
   * before reading from the peer pauses. This bounds the memory a slow
   * consumer costs the receiver; the peer's `send()` then waits in turn.
   *
   * @default {1048576} (1 MiB)
   */
  receiveBufferBytes?: number;
  /**
   * Called with every message sent and received, its JSON cut to 240
   * characters: for debugging. Without it, `TETHER_IPC_TRACE=1` in the
   * environment (read only if the process may, never prompting) writes the
   * same to standard error. Off, tracing costs nothing.
   */
  trace?: IpcTraceFunction;
}

/**
 * A two-way channel of JSON messages: `send()` a value, iterate to receive.
 *
 * On the wire each message is `JSON.stringify(value)` followed by `"\n"`,
 * UTF-8 encoded: Node's `"json"` IPC serialization, so a peer in any language
 * can take part. Messages sent in the same tick are written together;
 * received messages are parsed as they arrive and wait (up to
 * `receiveBufferBytes`) for the iterator.
 *
 * `spawnWithIpc()` and `connectParentIpc()` give you one over the
 * parent/child socketpair; construct one yourself over any byte streams.
 *
 * Iterating with `for await` ends when the peer closes the channel, after
 * the last message; bad input makes the iterator throw after every good
 * message before it. Leaving the loop early (`break`) does not close the
 * channel: iterate again to receive more.
 *
 * The channel keeps the process alive only while something is waiting for a
 * message or sent data is still being written.
 *
 * @typeParam In The type of the messages received.
 * @typeParam Out The type of the messages sent.
 *
 * @example Echo over a pair of streams
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const input = new Blob(['{"n":1}\n{"n":2}\n']).stream();
 * const written: Uint8Array[] = [];
 * const output = new WritableStream<Uint8Array>({ write(chunk) { written.push(chunk); } });
 * await using ipc = new IpcJsonStream<{ n: number }, { twice: number }>({ readable: input, writable: output });
 * for await (const { n } of ipc) await ipc.send({ twice: 2 * n });
 * ```
 */
export class IpcJsonStream<In = unknown, Out = unknown>
  implements AsyncIterable<In>, AsyncDisposable {
  #transport: IpcTransport;
  #decoder: NdjsonDecoder;
  #maxMessageBytes: number;
  #sendBufferBytes: number;
  #receiveBufferBytes: number;

  // Receiving.
  #queue: unknown[] = [];
  #queueSizes: number[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #waiters: PromiseWithResolvers<IteratorResult<In>>[] = [];
  #readPaused = false;
  #readEnded = false;
  #readError: Error | undefined;
  #iterator: AsyncIterableIterator<In>;

  // Sending.
  #batch: string[] = [];
  #batchChars = 0;
  #batchSeen = 0;
  #flushScheduled = false;
  #inFlightChars = 0;
  #drain: PromiseWithResolvers<void> | undefined;

  // Lifecycle.
  #refed = true;
  #closing = false;
  #finished = false;
  /** Why the channel closed, for the errors of later calls. */
  #closeReason = "";
  #closeCause: Error | undefined;
  #closed = Promise.withResolvers<void>();

  // Calls, figures and tracing: see calls.ts, stats.ts and trace.ts.
  #calls: IpcCalls | undefined;
  #tracer: Tracer | undefined;
  #messagesOut = 0;
  #charsOut = 0;

  /**
   * Creates a channel over a pair of byte streams or a transport.
   *
   * @param channel The readable and writable byte streams to the peer (such
   *   as a `Deno.Conn`), or an {@linkcode IpcTransport}.
   * @param options Size limits and buffer sizes.
   */
  constructor(
    channel: IpcByteStreams | IpcTransport,
    options: IpcJsonStreamOptions = {},
  ) {
    this.#maxMessageBytes = positiveOption(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
    );
    this.#sendBufferBytes = positiveOption(
      "sendBufferBytes",
      options.sendBufferBytes,
      DEFAULT_SEND_BUFFER_BYTES,
    );
    this.#receiveBufferBytes = positiveOption(
      "receiveBufferBytes",
      options.receiveBufferBytes,
      DEFAULT_RECEIVE_BUFFER_BYTES,
    );
    this.#transport = "readable" in channel && "writable" in channel
      ? new WebStreamTransport(channel)
      : channel;
    this.#decoder = new NdjsonDecoder(
      (message, size) => this.#enqueue(message, size),
      { maxMessageBytes: this.#maxMessageBytes },
    );
    const iterator: AsyncIterableIterator<In> = {
      next: () => this.#next(),
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => iterator,
    };
    this.#iterator = iterator;
    const sink: IpcTransportSink = {
      data: (bytes) => this.#onData(bytes),
      end: () => this.#onEnd(),
      error: (error) => this.#onTransportError(error),
    };
    this.#tracer = tracerFor(options.trace);
    if (this.#tracer !== undefined) this.#callLayer();
    this.#transport.start(sink);
    this.#updateRef();
    globalThis.addEventListener("unload", this.#flushOnExit);
  }

  /**
   * Resolves once the channel is closed, whichever side or failure closed it.
   * It never rejects: errors are reported by the iterator and `send()`.
   */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Sends one message.
   *
   * The returned promise resolves as soon as the message is written to the
   * operating system or queued under `sendBufferBytes`, so `await send()` in a
   * loop runs at full speed for small messages and waits, instead of growing
   * memory, while the peer does not read. It does not mean the peer has read
   * the message.
   *
   * @param message Any value `JSON.stringify` can represent.
   * @returns A promise that resolves when the message is written or queued.
   * @throws {TypeError} (as a rejection) When JSON cannot represent the value:
   *   BigInt, cyclic references, or a top-level `undefined`, function or
   *   symbol. Nothing is written and the channel stays usable. Nested
   *   `undefined`, functions and symbols follow `JSON.stringify`: dropped from
   *   objects, `null` in arrays.
   * @throws {IpcMessageTooLargeError} (as a rejection) When the JSON is over
   *   `maxMessageBytes`; nothing is written.
   * @throws {IpcClosedError} (as a rejection) When the channel is closed.
   *
   * @example
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const ipc = new IpcJsonStream({ readable: new ReadableStream(), writable: new WritableStream() });
   * for (let i = 0; i < 1000; i++) await ipc.send({ i });
   * await ipc.close();
   * ```
   */
  send(message: Out): Promise<void> {
    if (this.#closing) {
      return Promise.reject(this.#closedError("send a message"));
    }
    let json: string;
    try {
      json = encodeJsonMessage(message, this.#maxMessageBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#batch.push(json);
    this.#batchChars += json.length + 1;
    if (this.#batchChars >= FLUSH_CHARS) {
      this.#flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#batchSeen = 0;
      queueMicrotask(this.#flushTick);
    }
    if (this.#inFlightChars + this.#batchChars <= this.#sendBufferBytes) {
      return RESOLVED;
    }
    this.#drain ??= Promise.withResolvers<void>();
    this.#updateRef();
    return this.#drain.promise;
  }

  /**
   * Waits for the next message.
   *
   * @returns The next message.
   * @throws {IpcClosedError} When the channel closed before a message came.
   * @throws {IpcProtocolError} When the input was not a valid message.
   * @throws {IpcMessageTooLargeError} When the next message is over `maxMessageBytes`.
   *
   * @example Request and reply
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const ipc = new IpcJsonStream({
   *   readable: new Blob(['{"pong":true}\n']).stream(),
   *   writable: new WritableStream(),
   * });
   * await ipc.send({ ping: true });
   * console.log(await ipc.receive()); // { pong: true }
   * await ipc.close();
   * ```
   */
  async receive(): Promise<In> {
    const result = await this.#next();
    if (result.done) {
      throw new IpcClosedError(
        "The IPC channel closed before a message arrived: the peer closed it, exited, or close() was called.",
      );
    }
    return result.value;
  }

  /**
   * Returns the iterator over received messages. Every call returns the same
   * iterator: messages are consumed once, whichever loop takes them.
   *
   * @example
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const ipc = new IpcJsonStream({
   *   readable: new Blob(["1\n2\n3\n"]).stream(),
   *   writable: new WritableStream(),
   * });
   * for await (const n of ipc) console.log(n); // 1, 2, 3
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<In> {
    return this.#iterator;
  }

  /**
   * Closes the channel: stops accepting `send()`, writes what is already
   * queued, then closes the transport, so the peer's iterator ends. Messages
   * already received can still be iterated; then iteration ends.
   *
   * @returns A promise that resolves once the channel is closed.
   *
   * @example
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const ipc = new IpcJsonStream({ readable: new ReadableStream(), writable: new WritableStream() });
   * await ipc.send("bye");
   * await ipc.close();
   * ```
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#closeReason = "close() was called";
      this.#flush();
      this.#updateRef();
      const finish = () => this.#finish("close() was called", undefined);
      this.#transport.close().then(finish, finish);
    }
    return this.#closed.promise;
  }

  /**
   * Closes the channel, as {@linkcode IpcJsonStream.close}; for `await using`.
   *
   * @example
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * {
   *   await using ipc = new IpcJsonStream({ readable: new ReadableStream(), writable: new WritableStream() });
   *   await ipc.send("done");
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Calls `method` in the peer and waits for its answer: a JSON-RPC 2.0
   * request on this channel, answered by the handler the peer registered
   * with {@linkcode IpcJsonStream.handle}. Many calls may be in flight at
   * once; each gets its own answer, in whatever order they come.
   *
   * Other messages keep flowing through the iterator: the call layer only
   * takes JSON-RPC requests, answers and cancellations.
   *
   * @typeParam R The type of the result (not checked).
   * @param method The method's name.
   * @param params Its parameters: any JSON value (JSON-RPC peers in other
   *   languages expect an object or an array). Left out when `undefined`.
   * @param options A `signal` to cancel the call and a `timeout`.
   * @returns The handler's result; `null` when it returned `undefined`.
   * @throws {IpcRemoteError} (as a rejection) When the handler threw; it
   *   carries the peer's error name, message, stack and `data`.
   * @throws {IpcMethodNotFoundError} (as a rejection) When the peer has no
   *   handler for `method`.
   * @throws {IpcTimeoutError} (as a rejection) When `timeout` passed first;
   *   the peer was told to cancel.
   * @throws {unknown} (as a rejection) The signal's `reason` when `signal`
   *   aborted first; the peer was told to cancel.
   * @throws {IpcClosedError} (as a rejection) When the channel closed before
   *   the answer came, or was closed already.
   * @throws {TypeError} (as a rejection) When `params` is not JSON.
   *
   * @example Call a handler of the other end
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const there = new TransformStream<Uint8Array, Uint8Array>();
   * const back = new TransformStream<Uint8Array, Uint8Array>();
   * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
   * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
   * callee.handle("add", ({ a, b }: { a: number; b: number }) => a + b);
   * const sum = await caller.request<number>("add", { a: 2, b: 40 }, { timeout: 5000 });
   * console.log(sum); // 42
   * await caller.close();
   * await callee.close();
   * ```
   */
  request<R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<R> {
    return this.#callLayer().request(method, params, options) as Promise<R>;
  }

  /**
   * Answers the peer's calls of `method` with `handler`, which may be async.
   * Its second argument holds a `signal` that fires when the caller cancels
   * the call or the channel closes.
   *
   * Calls of a method with no handler are answered with the JSON-RPC
   * "method not found" error (-32601), once the call layer has started (at
   * the first `handle()` or `request()`); before that, every message is a
   * plain message. So register handlers before the first `await` that
   * follows opening the channel.
   *
   * While a handler is registered the channel keeps the process alive, until
   * it closes or every handler is unregistered.
   *
   * @typeParam P The type of the parameters (not checked).
   * @typeParam R The type of the result.
   * @param method The method's name; names starting with `$/` are reserved.
   * @param handler Computes the result from the parameters.
   * @returns A function that unregisters the handler.
   * @throws {TypeError} When `method` already has a handler, or is reserved.
   *
   * @example A child that answers its parent's calls
   * ```ts ignore
   * import { connectParentIpc } from "@tether/ipc";
   *
   * const parent = connectParentIpc();
   * parent.handle("upper", (text: string) => text.toUpperCase());
   * parent.handle("sleep", (ms: number, { signal }) =>
   *   new Promise((resolve) => {
   *     const timer = setTimeout(resolve, ms);
   *     signal.addEventListener("abort", () => clearTimeout(timer));
   *   }));
   * // The child now runs until the parent closes the channel.
   * ```
   */
  handle<P = unknown, R = unknown>(
    method: string,
    handler: IpcHandler<P, R>,
  ): () => void {
    return this.#callLayer().handle(method, handler);
  }

  /**
   * Figures of this channel since it was created: messages and bytes in
   * and out, failures, calls in flight in each direction, and the latency
   * percentiles of the calls this end made.
   *
   * @returns A snapshot of the figures.
   *
   * @example
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const ipc = new IpcJsonStream({
   *   readable: new Blob(['{"n":1}\n']).stream(),
   *   writable: new WritableStream(),
   * });
   * await ipc.receive();
   * await ipc.send({ ok: true });
   * await ipc.close();
   * const { messagesIn, bytesIn, messagesOut } = ipc.stats();
   * console.log(messagesIn, bytesIn, messagesOut); // 1 8 1
   * ```
   */
  stats(): IpcStreamStats {
    const calls = this.#calls === undefined
      ? noCallStats()
      : this.#calls.stats();
    const failed = this.#closeCause !== undefined ||
      this.#readError !== undefined;
    return {
      messagesIn: this.#decoder.messageCount,
      messagesOut: this.#messagesOut,
      bytesIn: this.#decoder.bytesReceived,
      bytesOut: this.#charsOut,
      errors: calls.failed + calls.handlerErrors + (failed ? 1 : 0),
      calls,
    };
  }

  /** The call layer, made on first use; it learns when the channel closes. */
  #callLayer(): IpcCalls {
    if (this.#calls === undefined) {
      const calls = new IpcCalls({
        send: (message) => this.send(message as Out),
        closedError: (action) => this.#closedError(action),
      }, this.#tracer);
      this.#calls = calls;
      this.#closed.promise.then(() => calls.onClosed());
    }
    return this.#calls;
  }

  // Receiving ------------------------------------------------------------

  #onData(bytes: Uint8Array): boolean {
    if (this.#readEnded || this.#readError !== undefined) return false;
    const error = this.#decoder.push(bytes);
    if (error !== undefined) {
      this.#failRead(error);
      return false;
    }
    if (this.#queuedBytes > this.#receiveBufferBytes) {
      this.#readPaused = true;
      return false;
    }
    return true;
  }

  #enqueue(message: unknown, size: number): void {
    if (this.#calls !== undefined && this.#calls.intercept(message)) return;
    if (this.#waiters.length > 0 && this.#queueHead === this.#queue.length) {
      this.#waiters.shift()!.resolve({ value: message as In, done: false });
      if (this.#waiters.length === 0) this.#updateRef();
      return;
    }
    this.#queue.push(message);
    this.#queueSizes.push(size);
    this.#queuedBytes += size;
  }

  #next(): Promise<IteratorResult<In>> {
    const queue = this.#queue;
    const head = this.#queueHead;
    if (head < queue.length) {
      const value = queue[head] as In;
      queue[head] = undefined;
      this.#queuedBytes -= this.#queueSizes[head];
      this.#queueHead = head + 1;
      if (head + 1 === queue.length) {
        queue.length = 0;
        this.#queueSizes.length = 0;
        this.#queueHead = 0;
      } else if (head + 1 >= QUEUE_COMPACT_AT) {
        queue.splice(0, head + 1);
        this.#queueSizes.splice(0, head + 1);
        this.#queueHead = 0;
      }
      if (
        this.#readPaused &&
        this.#queuedBytes <= this.#receiveBufferBytes / 2
      ) {
        this.#readPaused = false;
        this.#transport.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#readError !== undefined) return Promise.reject(this.#readError);
    if (this.#readEnded) return Promise.resolve(DONE);
    const waiter = Promise.withResolvers<IteratorResult<In>>();
    this.#waiters.push(waiter);
    if (this.#waiters.length === 1) this.#updateRef();
    return waiter.promise;
  }

  #onEnd(): void {
    if (!this.#closing) {
      const error = this.#decoder.end();
      if (error !== undefined) {
        this.#failRead(error);
        return;
      }
    }
    this.#finish("the peer closed it", undefined);
  }

  #onTransportError(error: Error): void {
    if (this.#closing) return;
    // A reset or broken pipe means the peer is gone: a clean end of what it
    // sent, unless it stopped in the middle of a message.
    const truncated = this.#decoder.end();
    if (truncated !== undefined) this.#readError = truncated;
    this.#finish(
      `the connection failed: ${error.message}; the peer has probably exited`,
      error,
    );
  }

  /** Bad input ends the channel: the framing cannot be trusted past it. */
  #failRead(error: Error): void {
    this.#readError ??= error;
    this.#finish(`it received bad input: ${error.message}`, error);
  }

  #endRead(): void {
    this.#readEnded = true;
    if (this.#queueHead === this.#queue.length) {
      const error = this.#readError;
      for (const waiter of this.#waiters.splice(0)) {
        if (error === undefined) waiter.resolve(DONE);
        else waiter.reject(error);
      }
    }
  }

  // Sending --------------------------------------------------------------

  /**
   * Runs as a microtask after a send. While each pass finds more messages
   * (a sender awaiting `send()` in a loop adds one per microtask) it passes
   * again, so the whole burst goes out in one write; the first pass that
   * finds nothing new writes.
   */
  #flushTick = (): void => {
    const length = this.#batch.length;
    if (length === 0) {
      // Written meanwhile because the batch grew past FLUSH_CHARS.
      this.#flushScheduled = false;
    } else if (length !== this.#batchSeen) {
      this.#batchSeen = length;
      queueMicrotask(this.#flushTick);
    } else {
      this.#flushScheduled = false;
      this.#flush();
    }
  };

  /**
   * `Deno.exit()` ends the process without running microtasks, so a batch
   * still waiting for its flush tick would be lost: write it now. A socket
   * with room takes the bytes synchronously.
   */
  #flushOnExit = (): void => this.#flush();

  #flush(): void {
    const batch = this.#batch;
    if (batch.length === 0 || this.#finished) return;
    const data = batch.length === 1 ? batch[0] + "\n" : batch.join("\n") + "\n";
    const chars = this.#batchChars;
    this.#messagesOut += batch.length;
    this.#charsOut += chars;
    if (this.#tracer !== undefined) this.#tracer.sent(batch);
    batch.length = 0;
    this.#batchChars = 0;
    this.#batchSeen = 0;
    this.#inFlightChars += chars;
    this.#updateRef();
    this.#transport.write(data, (error) => this.#onWritten(chars, error));
  }

  #onWritten(chars: number, error: Error | undefined): void {
    this.#inFlightChars -= chars;
    if (error !== undefined) {
      this.#onTransportError(error);
      return;
    }
    const drain = this.#drain;
    if (
      drain !== undefined &&
      this.#inFlightChars + this.#batchChars <= this.#sendBufferBytes
    ) {
      this.#drain = undefined;
      drain.resolve();
    }
    this.#updateRef();
  }

  #closedError(action: string): IpcClosedError {
    return new IpcClosedError(
      `Cannot ${action}: the IPC channel is closed (${
        this.#closeReason || "close() was called"
      }).`,
      { cause: this.#closeCause },
    );
  }

  // Lifecycle ------------------------------------------------------------

  /** Keeps the process alive only while a message is awaited or data is being written. */
  #updateRef(): void {
    const wanted = !this.#finished &&
      (this.#waiters.length > 0 || this.#inFlightChars > 0 ||
        this.#drain !== undefined || this.#closing);
    if (wanted === this.#refed) return;
    this.#refed = wanted;
    if (wanted) this.#transport.ref();
    else this.#transport.unref();
  }

  /** Closes the transport and settles everything that waits on the channel. */
  #finish(reason: string, cause: Error | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closing = true;
    this.#closeReason ||= reason;
    this.#closeCause ??= cause;
    this.#endRead();
    const drain = this.#drain;
    if (drain !== undefined) {
      this.#drain = undefined;
      drain.reject(this.#closedError("send a message"));
    }
    this.#batch.length = 0;
    this.#batchChars = 0;
    this.#transport.destroy();
    this.#updateRef();
    globalThis.removeEventListener("unload", this.#flushOnExit);
    this.#closed.resolve();
  }
}

function positiveOption(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `IpcJsonStream option ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}
