/**
 * {@linkcode IpcJsonStream}, the channel itself, and {@linkcode IpcChannel},
 * the interface of every channel; here too the options of `send()` and the
 * shape of `stats()`. Its parts: `wire.ts` (the transport and codec),
 * `send_queue.ts`, `receive.ts`, `lifecycle.ts`; calls are
 * `../calls/call_layer.ts`.
 *
 * @module
 */

import { CallLayer } from "../calls/call_layer.ts";
import { type IpcCallStats, noCallStats } from "../calls/stats.ts";
import type { IpcHandler, IpcRequestOptions } from "../calls/types.ts";
import { type IpcRemote, remote } from "../calls/remote.ts";
import type { IpcCallStream, IpcStreamOptions } from "../calls/streams.ts";
import { settlesWithin } from "../internal/deadline.ts";
import type {
  IpcMessageTransport,
  IpcTransport,
} from "../transports/transport.ts";
import {
  type IpcByteStreams,
  WebStreamTransport,
} from "../transports/web_streams.ts";
import { IpcProtocolError } from "../errors.ts";
import { flushSent } from "./send_queue.ts";
import { ChannelLifecycle } from "./lifecycle.ts";
import {
  type IncomingFilter,
  incomingFilter,
  ReceiveQueue,
  SKIP,
} from "./receive.ts";
import { checkStreamOptions, type IpcJsonStreamOptions } from "./options.ts";
import type { Sender } from "./send_queue.ts";
import { type Tracer, tracerFor } from "./trace.ts";
import { Wire } from "./wire.ts";
import { TransferringMessage } from "../transports/transfer.ts";

/** After bad input, how long queued replies may take to be written before hanging up. */
const BAD_INPUT_WRITE_GRACE_MS = 2000;
/** The key of {@linkcode IpcJsonStream}'s method for the library's own layers (not in mod.ts). */
export const CONTROLS: unique symbol = Symbol("IpcJsonStream controls");

/**
 * What the library's own layers do with a channel besides its public
 * methods: graceful cancel, a pool child's concurrency, the network heartbeat.
 */
export interface ChannelControls {
  /** Hands the parent's `$/cancelProcess` notifications to `listener`; one that came earlier is replayed. */
  onCancelProcess(listener: (params: unknown) => void): void;
  /**
   * Runs at most `max` of the peer's calls at once (never more than
   * `maxConcurrentCalls`), those of `unlimited` at once; returns the limit in effect.
   */
  limitCalls(max: number, unlimited: readonly string[]): number;
  /** Hands the heartbeat's control signals to `listener`; `false` on a message transport. */
  listenControl(listener: (signal: number) => void): boolean;
  /** Calls back once the program has taken every plain message received so far. */
  afterReceivedTaken(callback: () => void): void;
  /** Sends a heartbeat signal after what was sent so far, while the channel is open. */
  sendSignal(signal: number): void;
}

/**
 * A two-way channel of messages and calls, as every channel of this library
 * is (such as {@linkcode IpcJsonStream}). Type a function against it to take
 * any channel.
 *
 * @typeParam In The type of the messages received.
 * @typeParam Out The type of the messages sent.
 *
 * @example A function that takes any channel
 * ```ts
 * import { type IpcChannel, IpcJsonStream } from "@tether/ipc";
 *
 * async function greet(channel: IpcChannel<unknown, string>): Promise<void> {
 *   await channel.send("hello");
 *   await channel.flush();
 * }
 * await using ipc = new IpcJsonStream<unknown, string>({ readable: new ReadableStream(), writable: new WritableStream() });
 * await greet(ipc);
 * ```
 */
export interface IpcChannel<In = unknown, Out = unknown>
  extends AsyncIterable<In>, AsyncDisposable {
  /** Resolves once the channel is closed, for whatever reason; never rejects. */
  readonly closed: Promise<void>;
  /** Sends one message; resolves once it is written or queued within `sendBufferBytes`. */
  send(message: Out, options?: IpcSendOptions): Promise<void>;
  /** Waits for the next message; rejects with `IpcClosedError` once the channel has ended. */
  receive(): Promise<In>;
  /** The one iterator over received messages (every call returns the same one). */
  [Symbol.asyncIterator](): AsyncIterableIterator<In>;
  /** Resolves once all sent so far is with the OS, not just queued. */
  flush(): Promise<void>;
  /** Writes what is queued, then closes; resolves once closed. */
  close(): Promise<void>;
  /** Closes the channel, as `close()`; for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Calls `method` in the peer and waits for its answer (JSON-RPC 2.0). */
  request<R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<R>;
  /** Answers the peer's calls of `method`; returns a function that unregisters it. */
  handle<P = unknown, R = unknown>(
    method: string,
    handler: IpcHandler<P, R>,
  ): () => void;
  /** Calls `method`, an async generator in the peer, and iterates what it yields. */
  stream<T = unknown, R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcStreamOptions,
  ): IpcCallStream<T, R>;
  /** A proxy typed from the peer's handlers object `H`. */
  remote<H>(): IpcRemote<H>;
  /** Figures of this channel since it was created. */
  stats(): IpcStreamStats;
}

/**
 * A two-way channel of messages: `send()` a value, iterate to receive, and
 * `request()`/`handle()` calls both ways.
 *
 * A message is a line of JSON (Node's `"json"` IPC format) or a V8 frame
 * (`"advanced"`). `spawnWithIpc()` and `connectParentIpc()` give you one;
 * construct one yourself over any byte streams or transport.
 *
 * Iterating ends when the peer closes the channel, after the last message;
 * bad input makes the iterator throw after every good message before it.
 * Leaving the loop early (`break`) does not close the channel. The channel
 * keeps the process alive only while a message is awaited or sent data is
 * still being written.
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
  implements IpcChannel<In, Out> {
  #transport: IpcTransport | IpcMessageTransport;
  #wire: Wire;
  #received: ReceiveQueue<In>;
  #sending: Sender;
  #filter: IncomingFilter | undefined;
  #tracer: Tracer | undefined;
  #calls: CallLayer | undefined;
  #messagesIn = 0;
  #life = new ChannelLifecycle();
  #refed = true;
  /** The error that ended reading (bad input, a truncated message). */
  #readError: Error | undefined;

  /**
   * Creates a channel over a pair of byte streams or a transport.
   *
   * @param channel The readable and writable byte streams to the peer (such
   *   as a `Deno.Conn`), an {@linkcode IpcTransport} of bytes, or an
   *   {@linkcode IpcMessageTransport} of whole messages.
   * @param options The wire format, size limits and buffer sizes.
   */
  constructor(
    channel: IpcByteStreams | IpcTransport | IpcMessageTransport,
    options: IpcJsonStreamOptions<In> = {},
  ) {
    const settings = checkStreamOptions(options);
    const transport: IpcTransport | IpcMessageTransport =
      "readable" in channel && "writable" in channel
        ? new WebStreamTransport(channel)
        : channel;
    this.#transport = transport;
    this.#filter = incomingFilter(options);
    this.#tracer = tracerFor(options.trace);
    this.#received = new ReceiveQueue<In>(settings, {
      resume: () => this.#transport.resume(),
      waitingChanged: () => this.#updateRef(),
    });
    this.#wire = new Wire(transport, settings, this.#received, {
      receive: (message, size) => this.#receive(message, size),
      badInput: (error) => this.#failRead(error),
      end: (reason) => this.#onEnd(reason),
      broken: (error) => this.#onTransportError(error),
    }, {
      writeFailed: (error) => this.#onTransportError(error),
      busyChanged: () => this.#updateRef(),
    });
    this.#sending = this.#wire.sender;
    this.#updateRef();
  }

  /** Resolves once the channel is closed, for whatever reason; never rejects (errors go to the iterator and `send()`). */
  get closed(): Promise<void> {
    return this.#life.closed;
  }

  /**
   * Sends one message. The promise resolves as soon as the message is
   * written or queued within `sendBufferBytes`, so `await send()` in a loop
   * runs at full speed and waits, instead of growing memory, while the peer
   * does not read. It does not mean the peer has read the message.
   *
   * @param message Any value `JSON.stringify` can represent; with
   *   `serialization: "advanced"`, any value V8 can clone.
   * @param options `transfer`: buffers to move to a worker, not copy.
   * @returns A promise that resolves when the message is written or queued.
   * @throws {TypeError} (as a rejection) When the wire format cannot carry
   *   it (JSON: a BigInt, a cycle); nothing is written, the channel stays usable.
   * @throws {IpcMessageTooLargeError} (as a rejection) When it is over
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
  send(message: Out, options?: IpcSendOptions): Promise<void> {
    if (this.#life.state !== "open") {
      return Promise.reject(this.#life.closedError("send a message"));
    }
    const out = outgoingMessage(this.#transport, message, options);
    const sent = this.#sending.send(out);
    this.#tracer?.sent(message);
    return sent;
  }

  /**
   * Waits for the next message.
   *
   * @returns The next message.
   * @throws {IpcClosedError} When the channel closed before a message came.
   * @throws {IpcProtocolError} When the input was not a valid message.
   * @throws {IpcMessageTooLargeError} When the next message is over `maxMessageBytes`.
   */
  async receive(): Promise<In> {
    const result = await this.#received.next();
    if (result.done) throw this.#life.closedError("receive a message");
    return result.value;
  }

  /**
   * Returns the iterator over received messages. Every call returns the same
   * iterator: messages are consumed once, whichever loop takes them (see
   * the class example).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<In> {
    return this.#received.iterator();
  }

  /**
   * Resolves once all sent so far is with the OS, not just queued (rejects
   * with `IpcClosedError` if some never will be); docs/channel.md#exit.
   */
  flush(): Promise<void> {
    return flushSent(this.#sending, this.#life);
  }

  /**
   * Closes the channel: stops accepting `send()`, writes what is already
   * queued, then closes the transport, so the peer's iterator ends. Messages
   * already received can still be iterated; then iteration ends.
   *
   * @returns A promise that resolves once the channel is closed.
   */
  close(): Promise<void> {
    if (this.#startClosing("close() was called", undefined)) {
      // The transport writes what it was handed before it closes.
      this.#sending.flushAll();
      const finish = () => this.#finish();
      this.#transport.close().then(finish, finish);
    }
    return this.#life.closed;
  }

  /** Closes the channel, as {@linkcode IpcJsonStream.close}; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Calls `method` in the peer and waits for its answer: a JSON-RPC 2.0
   * request, answered by the peer's {@linkcode IpcJsonStream.handle}. Many
   * calls may be in flight at once. Plain messages keep flowing through the
   * iterator meanwhile.
   *
   * @typeParam R The type of the result (not checked).
   * @param method The method's name.
   * @param params Its parameters, which the handler gets as they are (on the
   *   wire a non-object goes as a one-element array); left out when `undefined`.
   * @param options A `signal` to cancel the call and a `timeout`.
   * @returns The handler's result; `null` when it returned `undefined`.
   * @throws {IpcRemoteError} (as a rejection) When the handler threw, or
   *   {@linkcode IpcMethodNotFoundError} when it has none.
   * @throws {IpcTimeoutError} (as a rejection) When `timeout` passed first
   *   (an aborted `signal` rejects with its reason); the peer is told.
   * @throws {IpcClosedError} (as a rejection) When the channel closed first.
   * @throws {TypeError} (as a rejection) When `params` cannot be sent.
   *
   * @example Call a handler of the other end
   * ```ts
   * import { IpcJsonStream } from "@tether/ipc";
   *
   * const [there, back] = [new TransformStream(), new TransformStream()];
   * await using caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
   * await using callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
   * callee.handle("add", ({ a, b }: { a: number; b: number }) => a + b);
   * console.log(await caller.request<number>("add", { a: 2, b: 40 }, { timeout: 5000 })); // 42
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
   * Answers the peer's calls of `method` with `handler`, which may be async;
   * its context's `signal` fires when the caller cancels or the channel
   * closes. Calls of a method with no handler get JSON-RPC's "method not
   * found" error; calls that arrived before the first `handle()` are
   * answered once the handlers registered in that same tick are in place, so
   * register them together, before the first `await`. While a handler is
   * registered, the channel keeps the process alive.
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
   * Calls `method` in the peer, whose handler is an async generator, and
   * iterates what it yields; leaving the loop cancels the call. The peer runs
   * at most `highWaterMark` items ahead. Example: {@linkcode IpcCallStream}.
   */
  stream<T = unknown, R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcStreamOptions,
  ): IpcCallStream<T, R> {
    return this.#callLayer().streams.open<T, R>(method, params, options);
  }

  /**
   * A proxy typed from the peer's handlers object (`H`, imported with
   * `import type`): `await api.fib(params, options)` calls `request()`,
   * `for await (… of api.lines(params))` calls `stream()`; see `remote()`.
   */
  remote<H>(): IpcRemote<H> {
    return remote<H>(this);
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
   * const ipc = new IpcJsonStream({ readable: new Blob(['{"n":1}\n']).stream(), writable: new WritableStream() });
   * await ipc.receive();
   * await ipc.close();
   * console.log(ipc.stats().messagesIn, ipc.stats().bytesIn); // 1 8
   * ```
   */
  stats(): IpcStreamStats {
    return streamStats(this.#messagesIn, this.#wire.bytesIn, this.#sending, {
      failed: this.#life.failed || this.#readError !== undefined,
      dropped: this.#received.dropped,
      calls: this.#calls?.stats() ?? noCallStats(),
    });
  }

  /**
   * The channel's controls for the library's own layers; see
   * {@linkcode ChannelControls}.
   *
   * @ignore
   */
  [CONTROLS](): ChannelControls {
    return {
      onCancelProcess: (listener) =>
        this.#callLayer().onCancelProcess(listener),
      limitCalls: (max, unlimited) =>
        this.#callLayer().limitCalls(max, unlimited),
      listenControl: (listener) => this.#wire.listenControl(listener),
      afterReceivedTaken: (callback) => this.#received.afterTaken(callback),
      sendSignal: (signal) => {
        if (this.#life.state === "open") this.#sending.signal(signal);
      },
    };
  }

  /** The call layer, made on first use; it learns when the channel closes. */
  #callLayer(): CallLayer {
    if (this.#calls === undefined) {
      const calls = new CallLayer({
        send: (message) => this.send(message as Out),
        closedError: (action) => this.#life.closedError(action),
        busyChanged: () => this.#updateRef(),
        receiving: this.#received,
      });
      this.#calls = calls;
      this.#received.holdForCalls(calls);
      this.#life.closed.then(() => calls.onClosed());
      // Calls that came before the call layer existed wait in the queue; hand
      // them over once the handlers registered in this same tick are in
      // place, and before the iterator can take them.
      this.#received.handOver((message) => !calls.intercept(message));
    }
    return this.#calls;
  }

  // Receiving ------------------------------------------------------------

  /** Every received message goes through here, on its way to the iterator. */
  #receive(message: unknown, size: number): void {
    const index = this.#messagesIn++;
    this.#tracer?.received(message);
    if (this.#calls?.intercept(message, size) === true) return;
    const filter = this.#filter;
    if (filter !== undefined) {
      try {
        message = filter(message, index);
      } catch (error) {
        this.#received.pushError(error);
        return;
      }
      if (message === SKIP) return;
    }
    this.#received.push(message as In, size);
  }

  #onEnd(reason?: Error): void {
    let why = reason?.message ?? "the peer closed it";
    if (this.#life.state === "open") {
      const failure = this.#wire.endInput();
      if (failure !== undefined) {
        // A peer that died (the transport says how) was cut off: the
        // message it was writing is lost with it; that is no bad input.
        if (
          reason === undefined ||
          !(failure instanceof IpcProtocolError && failure.truncated)
        ) {
          this.#failRead(failure);
          return;
        }
        why +=
          `; message #${failure.messageIndex}, which it was sending, was cut off and is lost`;
      }
    }
    this.#startClosing(why, reason);
    this.#finish();
  }

  #onTransportError(error: Error): void {
    if (this.#life.state !== "open") return;
    // A reset or broken pipe: the peer is gone; truncated only mid-message.
    const truncated = this.#wire.endInput();
    if (truncated !== undefined) this.#readError = truncated;
    this.#startClosing(
      `the connection failed: ${error.message}; the peer has probably exited`,
      error,
    );
    this.#finish();
  }

  /**
   * Bad input ends the channel (its framing cannot be trusted past it): replies
   * already queued go out, then the channel hangs up without reading more.
   */
  #failRead(error: Error): void {
    this.#readError ??= error;
    this.#received.end(this.#readError);
    if (!this.#startClosing(`it received bad input: ${error.message}`, error)) {
      return;
    }
    settlesWithin(this.#sending.flushAll(), BAD_INPUT_WRITE_GRACE_MS).then(() =>
      this.#finish()
    );
  }

  // Lifecycle ------------------------------------------------------------

  /** Keeps the process alive only while a message is awaited or data is being written. */
  #updateRef(): void {
    const state = this.#life.state;
    const wanted = state === "closing" ||
      (state === "open" &&
        (this.#received.waiting || this.#sending.busy ||
          this.#calls?.busy === true));
    if (wanted === this.#refed) return;
    this.#refed = wanted;
    if (wanted) this.#transport.ref();
    else this.#transport.unref();
  }

  /** Refuses further sends, remembering why; `false` when not open. */
  #startClosing(reason: string, cause: Error | undefined): boolean {
    if (!this.#life.startClosing(reason, cause)) return false;
    this.#updateRef();
    return true;
  }

  /** Closes the transport and settles everything that waits on the channel. */
  #finish(): void {
    this.#life.finish(() => {
      this.#received.end(this.#readError);
      this.#sending.stop(this.#life.closedError("send a message"));
      this.#transport.destroy();
      this.#updateRef();
    });
  }
}

/**
 * Options of {@linkcode IpcJsonStream.send}.
 *
 * @example Move a large buffer to a worker instead of copying it
 * ```ts ignore
 * import { spawnWorkerWithIpc, type IpcSendOptions } from "@tether/ipc";
 *
 * await using worker = spawnWorkerWithIpc(new URL("./worker.ts", import.meta.url));
 * const pixels = new Uint8Array(16 * 1024 * 1024);
 * const options: IpcSendOptions = { transfer: [pixels.buffer] };
 * await worker.ipc.send({ pixels }, options); // pixels.byteLength is now 0 here
 * ```
 */
export interface IpcSendOptions {
  /**
   * `ArrayBuffer`s (and other transferables) the message holds that move
   * to the peer instead of being copied: on a channel to a Worker, the
   * sender's buffers are detached once sent. Transports that carry bytes
   * (processes, sockets) copy the message as usual and leave them intact.
   *
   * @default {[]}
   */
  transfer?: readonly Transferable[];
}

/**
 * What the send queue gets for `message`: the message, or the message with
 * its transfer list when the transport can transfer.
 */
export function outgoingMessage(
  transport: IpcTransport | IpcMessageTransport,
  message: unknown,
  options: IpcSendOptions | undefined,
): unknown {
  const transfer = options?.transfer;
  if (
    transfer === undefined || transfer.length === 0 ||
    transport.carriesMessages !== true || transport.transfers !== true
  ) {
    return message;
  }
  return new TransferringMessage(message, transfer);
}

/**
 * What went through one channel since it was created.
 *
 * @example Messages and bytes both ways
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * const { messagesOut, messagesIn, bytesOut, errors } = caller.stats();
 * console.log(messagesOut, messagesIn, bytesOut, errors); // 1 1 41 0
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcStreamStats {
  /** Messages received, calls and answers included. */
  messagesIn: number;
  /** Messages sent (queued or written), calls and answers included. */
  messagesOut: number;
  /** Bytes received. */
  bytesIn: number;
  /**
   * Bytes written. JSON text is counted without re-encoding it: exact for
   * ASCII; each character beyond ASCII counts as one (or two, outside the
   * Basic Multilingual Plane), so it is then a lower bound. Exact with the
   * `"advanced"` serialization.
   */
  bytesOut: number;
  /**
   * Plain messages dropped because `receiveBufferBytes` of them waited
   * unread, with `receiveOverflow: "drop"`.
   */
  messagesDropped: number;
  /**
   * Failures: calls this end made that failed, calls from the peer answered
   * with an error, and 1 if the channel itself failed (bad input or a broken
   * connection).
   */
  errors: number;
  /** The calls made in each direction. */
  calls: IpcCallStats;
}

/**
 * The figures of a channel, from its counts and its calls' figures.
 *
 * @param messagesIn Messages received.
 * @param bytesIn Bytes received.
 * @param sent The counts of what was sent.
 * @param state Whether the channel failed, and its calls' figures.
 */
export function streamStats(
  messagesIn: number,
  bytesIn: number,
  sent: { messagesOut: number; bytesOut: number },
  state: { failed: boolean; dropped: number; calls: IpcCallStats },
): IpcStreamStats {
  const { calls } = state;
  return {
    messagesIn,
    messagesOut: sent.messagesOut,
    bytesIn,
    bytesOut: sent.bytesOut,
    messagesDropped: state.dropped,
    errors: calls.failed + calls.handlerErrors + (state.failed ? 1 : 0),
    calls,
  };
}
