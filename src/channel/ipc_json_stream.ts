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
import { IpcClosedError, IpcValidationError } from "./errors.ts";
import { AdvancedDecoder, encodeAdvancedMessage } from "./advanced_codec.ts";
import type { MessageDecoder } from "./message_decoder.ts";
import { NdjsonDecoder } from "./ndjson_decoder.ts";
import { encodeJsonMessage } from "./ndjson_encoder.ts";
import type { IpcStreamStats } from "./stats.ts";
import { type IpcTraceFunction, type Tracer, tracerFor } from "./trace.ts";
import type { IpcTransport, IpcTransportSink } from "./transport.ts";
import { WriteQueue } from "./write_queue.ts";
import { compileValidator, type IpcMessageValidator } from "./validation.ts";
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
 * With no write in flight, queued messages are written as soon as they reach
 * this many bytes, without waiting for the sender to pause: large enough that
 * a write costs little per message, small enough to keep the pipe busy while
 * the sender goes on serializing.
 */
const FLUSH_BYTES = 64 * 1024;

/**
 * After bad input, how long queued replies may take to be written before the
 * channel hangs up anyway.
 */
const BAD_INPUT_WRITE_GRACE_MS = 2000;

/** Compact the receive queue once this many consumed slots sit at its head. */
const QUEUE_COMPACT_AT = 4096;

const RESOLVED: Promise<void> = Promise.resolve();
/** What the incoming-message check returns for a message not to deliver. */
const SKIP = Symbol("skip");

/** An error delivered in the place of a message (a failed validation). */
class ErrorInPlace {
  constructor(readonly error: Error) {}
}
const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/**
 * How messages are written on the wire: `"json"` (newline-delimited JSON) or
 * `"advanced"` (Node's length-prefixed V8 serialization).
 */
export type IpcSerialization = "json" | "advanced";

/** Options of an {@linkcode IpcJsonStream}. */
export interface IpcJsonStreamOptions<In = unknown> {
  /**
   * The wire format; both ends must use the same.
   *
   * - `"json"`: each message is `JSON.stringify(value)` and `"\n"`, Node's
   *   `"json"` IPC serialization. Any language can take part.
   * - `"advanced"`: each message is a 4-byte big-endian length and a V8
   *   serialization (`node:v8` `serialize`), Node's `"advanced"` IPC
   *   serialization: `Uint8Array`s and other typed arrays, `Date`, `Map`,
   *   `Set`, `BigInt`, `RegExp`, `Error`, `undefined` and cycles round-trip,
   *   and binary data moves without JSON's cost.
   *
   * @default {"json"}
   */
  serialization?: IpcSerialization;
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
   * How many bytes of sent messages may wait in the queue, besides the one
   * write in progress, before `send()` returns a promise that waits for the
   * peer to read. This bounds the memory a slow reader can cost the sender.
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
   * Checks each received message: a Standard Schema object (zod, valibot,
   * arktype, … — anything with `~standard.validate`, synchronous) or a
   * function returning `true` for a valid message. A schema's output (e.g.
   * with defaults applied) is what the iterator yields.
   */
  validate?: IpcMessageValidator<In>;
  /**
   * What happens to a message that fails `validate`:
   *
   * - `"throw"`: the iterator throws an {@linkcode IpcValidationError} in
   *   its place; the channel stays open, and iterating again goes on with
   *   the next message.
   * - a function: the message is skipped and the function is called with
   *   the error, to report it.
   *
   * @default {"throw"}
   */
  onInvalidMessage?: "throw" | ((error: IpcValidationError) => void);
  /**
   * Drops Node's internal messages (objects whose `cmd` starts with
   * `"NODE_"`), as the IPC channel of a Node.js process does, instead of
   * delivering them. `spawnWithIpc()` turns it on with its `nodeCompat`
   * option.
   *
   * @default {false}
   */
  nodeCompat?: boolean;
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
  #decoder: MessageDecoder;
  #advanced: boolean;
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
  /** Filters or checks each message before it is queued; `undefined` when nothing is to be done. */
  #check: ((message: unknown) => unknown) | undefined;

  // Sending: one write in flight at a time, the rest queued (sizes in bytes,
  // UTF-16 units for JSON text).
  #queued = new WriteQueue();
  #writingBytes = 0;
  #queuedSeen = 0;
  #flushScheduled = false;
  /** Told when the write in flight completes, while closing after bad input. */
  #afterWrite: (() => void) | undefined;
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
  #bytesOut = 0;

  /**
   * Creates a channel over a pair of byte streams or a transport.
   *
   * @param channel The readable and writable byte streams to the peer (such
   *   as a `Deno.Conn`), or an {@linkcode IpcTransport}.
   * @param options Size limits and buffer sizes.
   */
  constructor(
    channel: IpcByteStreams | IpcTransport,
    options: IpcJsonStreamOptions<In> = {},
  ) {
    const settings = checkStreamOptions(options);
    this.#maxMessageBytes = settings.maxMessageBytes;
    this.#sendBufferBytes = settings.sendBufferBytes;
    this.#receiveBufferBytes = settings.receiveBufferBytes;
    this.#transport = "readable" in channel && "writable" in channel
      ? new WebStreamTransport(channel)
      : channel;
    const serialization = settings.serialization;
    this.#advanced = serialization === "advanced";
    this.#check = incomingCheck(options, () => this.#decoder.messageCount - 1);
    const enqueue = (message: unknown, size: number) =>
      this.#enqueue(message, size);
    const limits = { maxMessageBytes: this.#maxMessageBytes };
    this.#decoder = this.#advanced
      ? new AdvancedDecoder(enqueue, limits)
      : new NdjsonDecoder(enqueue, limits);
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
   * operating system or queued within `sendBufferBytes`, so `await send()` in a
   * loop runs at full speed for small messages and waits, instead of growing
   * memory, while the peer does not read. It does not mean the peer has read
   * the message.
   *
   * @param message Any value `JSON.stringify` can represent; with
   *   `serialization: "advanced"`, any value V8 can clone.
   * @returns A promise that resolves when the message is written or queued.
   * @throws {TypeError} (as a rejection) When the serialization cannot carry
   *   the value. JSON: BigInt, cyclic references, or a top-level `undefined`,
   *   function or symbol (nested `undefined`, functions and symbols follow
   *   `JSON.stringify`: dropped from objects, `null` in arrays). Advanced:
   *   functions, symbols and other values V8 cannot clone. Nothing is written
   *   and the channel stays usable.
   * @throws {IpcMessageTooLargeError} (as a rejection) When the serialized
   *   message is over `maxMessageBytes`; nothing is written.
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
    const queued = this.#queued;
    try {
      if (this.#advanced) {
        queued.pushBytes(encodeAdvancedMessage(message, this.#maxMessageBytes));
      } else {
        queued.pushText(encodeJsonMessage(message, this.#maxMessageBytes));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#messagesOut++;
    if (this.#tracer !== undefined) this.#tracer.sent(message);
    if (this.#writingBytes === 0) {
      if (queued.size >= FLUSH_BYTES) {
        this.#flush();
      } else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        this.#queuedSeen = 0;
        queueMicrotask(this.#flushTick);
      }
    }
    if (queued.size <= this.#sendBufferBytes) {
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
    this.#closeGracefully("close() was called", undefined);
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
   * @throws {RangeError} (as a rejection) When `timeout` is not a positive
   *   number.
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
   * "method not found" error (-32601). Calls that arrived before the first
   * `handle()` or `request()` wait in the queue and are answered once the
   * handlers registered in that same tick are in place; so register
   * handlers together, before the first `await`.
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
      bytesOut: this.#bytesOut,
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
      // Calls that came before the call layer existed wait in the queue; hand
      // them over once the handlers registered in this same tick are in place.
      queueMicrotask(() => this.#routeQueuedCalls(calls));
    }
    return this.#calls;
  }

  #routeQueuedCalls(calls: IpcCalls): void {
    const queue = this.#queue;
    const sizes = this.#queueSizes;
    let kept = this.#queueHead;
    for (let i = this.#queueHead; i < queue.length; i++) {
      const message = queue[i];
      if (!(message instanceof ErrorInPlace) && calls.intercept(message)) {
        this.#queuedBytes -= sizes[i];
      } else {
        queue[kept] = message;
        sizes[kept] = sizes[i];
        kept++;
      }
    }
    queue.length = kept;
    sizes.length = kept;
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
    if (this.#check !== undefined) {
      message = this.#check(message);
      if (message === SKIP) return;
    }
    if (this.#waiters.length > 0 && this.#queueHead === this.#queue.length) {
      const waiter = this.#waiters.shift()!;
      if (message instanceof ErrorInPlace) waiter.reject(message.error);
      else waiter.resolve({ value: message as In, done: false });
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
      if (value instanceof ErrorInPlace) return Promise.reject(value.error);
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
  /**
   * Bad input ends the channel, as the framing cannot be trusted past it.
   * Replies already queued still go out, then the channel hangs up without
   * reading more (a peer sending garbage gets no more of our time).
   */
  #failRead(error: Error): void {
    this.#readError ??= error;
    this.#endRead();
    if (this.#closing) return;
    const reason = `it received bad input: ${error.message}`;
    this.#closing = true;
    this.#closeReason = reason;
    this.#closeCause = error;
    this.#updateRef();
    let pending = 1;
    const finish = () => {
      clearTimeout(grace);
      this.#finish(reason, error);
    };
    const grace = setTimeout(finish, BAD_INPUT_WRITE_GRACE_MS);
    const settle = () => {
      if (--pending === 0) finish();
    };
    if (this.#writingBytes > 0) {
      pending++;
      this.#afterWrite = settle;
    }
    for (const { data } of this.#queued.takeAll()) {
      pending++;
      this.#transport.write(data, settle);
    }
    settle();
  }

  /** Stops accepting sends, writes what is queued, then closes the transport. */
  #closeGracefully(reason: string, cause: Error | undefined): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#closeReason = reason;
    this.#closeCause = cause;
    // Hand everything queued to the transport, which writes it before closing.
    this.#flushOnExit();
    this.#updateRef();
    const finish = () => this.#finish(reason, cause);
    this.#transport.close().then(finish, finish);
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
   * Runs as a microtask after a send while no write is in flight. While
   * each pass finds more messages (a sender awaiting `send()` in a loop adds
   * one per microtask) it passes again, so the whole burst goes out in one
   * write; the first pass that finds nothing new writes.
   */
  #flushTick = (): void => {
    const length = this.#queued.length;
    if (length !== 0 && length !== this.#queuedSeen) {
      this.#queuedSeen = length;
      queueMicrotask(this.#flushTick);
    } else {
      this.#flushScheduled = false;
      this.#flush();
    }
  };

  /**
   * Writes everything queued at once, without waiting for the write in
   * flight: on close, and on `Deno.exit()`, which ends the process without
   * running microtasks (a socket with room takes the bytes synchronously).
   */
  #flushOnExit = (): void => {
    if (this.#finished) return;
    for (const { data } of this.#queued.takeAll()) {
      this.#transport.write(data, ignore);
    }
  };

  /** Starts the next write, unless one is in flight or nothing is queued. */
  #flush(): void {
    if (this.#writingBytes !== 0 || this.#finished) return;
    const write = this.#queued.take();
    if (write === undefined) return;
    const size = write.size;
    this.#writingBytes = size;
    this.#updateRef();
    this.#transport.write(write.data, (error) => this.#onWritten(size, error));
  }

  #onWritten(size: number, error: Error | undefined): void {
    this.#writingBytes -= size;
    if (this.#afterWrite !== undefined) {
      const afterWrite = this.#afterWrite;
      this.#afterWrite = undefined;
      afterWrite();
    }
    if (error !== undefined) {
      this.#onTransportError(error);
      return;
    }
    this.#bytesOut += size;
    // What was queued meanwhile is ready: write it at once.
    this.#flush();
    const drain = this.#drain;
    if (
      drain !== undefined &&
      this.#queued.size <= this.#sendBufferBytes
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
      (this.#waiters.length > 0 || this.#writingBytes > 0 ||
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
    this.#queued.clear();
    this.#transport.destroy();
    this.#updateRef();
    globalThis.removeEventListener("unload", this.#flushOnExit);
    this.#closed.resolve();
  }
}

/**
 * Builds the check of incoming messages the options ask for: dropping Node's
 * internal messages, and validation. `undefined` when there is none, so the
 * hot path pays nothing.
 */
function incomingCheck<In>(
  options: IpcJsonStreamOptions<In>,
  messageIndex: () => number,
): ((message: unknown) => unknown) | undefined {
  const dropNodeInternal = options.nodeCompat === true;
  const validate = options.validate === undefined
    ? undefined
    : compileValidator(options.validate);
  if (!dropNodeInternal && validate === undefined) return undefined;
  const onInvalid = options.onInvalidMessage ?? "throw";
  return (message) => {
    if (dropNodeInternal && isNodeInternalMessage(message)) return SKIP;
    if (validate === undefined) return message;
    try {
      return validate(message, messageIndex());
    } catch (error) {
      if (onInvalid === "throw" || !(error instanceof IpcValidationError)) {
        return new ErrorInPlace(error as Error);
      }
      onInvalid(error);
      return SKIP;
    }
  };
}

/** Node's own IPC messages, such as `{ cmd: "NODE_HANDLE_ACK" }`. */
function isNodeInternalMessage(message: unknown): boolean {
  if (typeof message !== "object" || message === null) return false;
  const cmd = (message as { cmd?: unknown }).cmd;
  return typeof cmd === "string" && cmd.startsWith("NODE_");
}

function ignore(): void {}

/** The sizes and format of a stream, defaults applied. */
interface StreamSettings {
  maxMessageBytes: number;
  sendBufferBytes: number;
  receiveBufferBytes: number;
  serialization: IpcSerialization;
}

/**
 * Checks the values of stream options and applies the defaults; exported so
 * that a channel can refuse bad options before it connects.
 *
 * @throws {RangeError} For a size that is not a positive integer or an
 *   unknown serialization.
 */
export function checkStreamOptions(
  options: IpcJsonStreamOptions<unknown>,
): StreamSettings {
  const serialization = options.serialization ?? "json";
  if (serialization !== "json" && serialization !== "advanced") {
    throw new RangeError(
      `IpcJsonStream option serialization must be "json" or "advanced", got ${
        JSON.stringify(serialization)
      }`,
    );
  }
  return {
    maxMessageBytes: positiveOption(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
    ),
    sendBufferBytes: positiveOption(
      "sendBufferBytes",
      options.sendBufferBytes,
      DEFAULT_SEND_BUFFER_BYTES,
    ),
    receiveBufferBytes: positiveOption(
      "receiveBufferBytes",
      options.receiveBufferBytes,
      DEFAULT_RECEIVE_BUFFER_BYTES,
    ),
    serialization,
  };
}

/**
 * An option that must be a positive integer, or its default.
 *
 * @throws {RangeError} When it is not one.
 */
export function positiveOption(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `Option ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}
