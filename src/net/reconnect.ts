/**
 * {@linkcode IpcReconnectingStream}: the channel of `connectIpc()` with
 * `reconnect`, which outlives its connections. Each connection is an
 * {@linkcode IpcNetStream} of its own (a fresh decoder, fresh call ids); this
 * class hands the program one channel across them: the connection it is on
 * now (and those waiting for the next), the messages sent meanwhile within a
 * byte budget, and streaming calls that start once a connection is there.
 *
 * @module
 */

import { remote } from "../calls/remote.ts";
import type { IpcCallStream, IpcStreamOptions } from "../calls/streams.ts";
import type { IpcRemote } from "../calls/remote.ts";
import type { IpcHandler, IpcRequestOptions } from "../calls/types.ts";
import { IpcClosedError, IpcValidationError } from "../errors.ts";
import type { IpcChannel } from "../channel/ipc_json_stream.ts";
import type { IpcSendOptions } from "../channel/ipc_json_stream.ts";
import type { IpcStreamStats } from "../channel/ipc_json_stream.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { toError } from "../internal/error_message.ts";
import type { IpcNetStream, NetConnection } from "./ipc_net_stream.ts";
import {
  backoffDelay,
  BackoffTimer,
  connectionLost,
  interruptedError,
  type IpcReconnectEvent,
  type IpcReconnectState,
  type ReconnectSettings,
  retryable,
} from "./reconnect_options.ts";

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/** A handler, and how to remove it from the current connection. */
interface Registered {
  handler: IpcHandler<never, unknown>;
  unregister: (() => void) | undefined;
}

/** A connection, and what was sent on it. */
interface Link<In, Out> extends NetConnection<In, Out> {
  /** `send()`s that resolved on it. */
  resolved: number;
}

/** How a reconnecting channel opens its next connection. */
export interface Reconnector<In, Out> {
  /** Opens a connection and completes the handshake. */
  connect(): Promise<NetConnection<In, Out>>;
  /** The checked `reconnect` option. */
  settings: ReconnectSettings;
  /** The server, as messages name it. */
  peer: string;
  /** Most bytes of `send()`s that wait for the next connection. */
  sendBufferBytes: number;
}

/**
 * The channel of {@linkcode connectIpc} with `reconnect`: when the
 * connection drops (the daemon restarts, the network fails) it reconnects
 * with jittered exponential backoff and runs the handshake again, key
 * included, and the program goes on with the same object. Its methods are
 * those of {@linkcode IpcJsonStream}, across connections:
 *
 * - **The iterator** does not end on a drop: messages received before it
 *   are delivered, then those of the next connection. It ends on `close()`;
 *   when reconnecting gives up it throws why (after `retries` attempts, an
 *   {@linkcode IpcClosedError} with the last failure as `cause`; at once,
 *   an {@linkcode IpcHandshakeError} of `reason` `"authentication"`: retrying cannot fix a key).
 * - **Calls** waiting for an answer when the connection dropped reject with
 *   an {@linkcode IpcClosedError} whose `cause` says "connection lost;
 *   reconnecting". They are never sent again: not every call is safe twice.
 *   Calls made while reconnecting wait for the connection (within their
 *   `timeout` and `signal`).
 * - **`send()`** while connected is the connection's: messages it had queued
 *   but not written when the connection dropped are lost, and a `send()`
 *   waiting for room then rejects like a call. While reconnecting, `send()`
 *   waits for the next connection and resolves once the message is handed
 *   to it, for up to `sendBufferBytes` of messages (measured as JSON); past
 *   that it rejects at once. No message is written twice. At each drop,
 *   `onStateChange` is told how many `send()`s resolved on that connection
 *   without being known to have reached the server (`sendsMaybeLost`; the
 *   heartbeat's acknowledgements tell the others); `stats()` adds them up.
 *   Use calls when you need to know that the server got something.
 * - **The heartbeat** (on by default with `"json"`) notices a server that
 *   went silent, stopped or unreachable, and reconnects.
 * - **Handlers** registered with `handle()` serve every connection.
 * - `state` and the `onStateChange` option tell where it is; `stats()` are
 *   the current connection's figures, with `reconnects` and
 *   `sendsMaybeLost` across connections.
 * - **`flush()`** waits, while reconnecting, for the waiting messages to be
 *   handed to the next connection, then for that connection to write them.
 * - `remote<H>()` makes a typed proxy of it, as of any channel: it is an
 *   {@linkcode IpcChannel}, so code typed against that takes it.
 *
 * @typeParam In The type of the messages from the server.
 * @typeParam Out The type of the messages to the server.
 *
 * @example Follow a daemon across restarts
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * const daemon = await connectIpc<{ event: string }>({
 *   path: "/run/user/1000/app/app.sock",
 *   reconnect: { onStateChange: ({ state }) => console.error("daemon:", state) },
 * });
 * for await (const { event } of daemon) console.log(event);
 * ```
 */
export class IpcReconnectingStream<In = unknown, Out = unknown>
  implements IpcChannel<In, Out> {
  #reconnector: Reconnector<In, Out>;
  #slot: ConnectionSlot<IpcNetStream<In, Out>>;
  /** The current connection (the last one between two). */
  #link!: Link<In, Out>;
  #state: IpcReconnectState = "open";
  #handlers = new Map<string, Registered>();
  #waitingSends: WaitingSends<Out>;
  /** What made it give up, for the iterator to throw once. */
  #failure: Error | undefined;
  #failureThrown = false;
  #closed = Promise.withResolvers<void>();
  #reconnects = 0;
  #sendsMaybeLost = 0;
  /** Those of the last drop, for the first event after it. */
  #lostAtDrop: number | undefined;
  #timer: BackoffTimer;
  #iterator: AsyncIterableIterator<In>;

  /**
   * Wraps a first connection; {@linkcode connectIpc} does it for you.
   *
   * @param first The first connection, handshake done.
   * @param reconnector How to open the next ones.
   */
  constructor(
    first: NetConnection<In, Out>,
    reconnector: Reconnector<In, Out>,
  ) {
    this.#reconnector = reconnector;
    this.#waitingSends = new WaitingSends(
      reconnector.sendBufferBytes,
      reconnector.peer,
    );
    // The backoff keeps the process alive only while something needs the connection.
    this.#timer = new BackoffTimer(() =>
      this.#slot.waiters > 0 || this.#handlers.size > 0
    );
    this.#slot = new ConnectionSlot(first.stream, () => this.#timer.update());
    const iterator: AsyncIterableIterator<In> = {
      next: () => this.#next(),
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => iterator,
    };
    this.#iterator = iterator;
    this.#attach(first);
  }

  /** `"open"`, `"reconnecting"` or `"closed"`. */
  get state(): IpcReconnectState {
    return this.#state;
  }

  /** How many times it reconnected (also in `stats()`). */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** The server's address on the current connection; `undefined` between connections. */
  get remoteAddr(): Deno.Addr | undefined {
    return this.#slot.current?.remoteAddr;
  }

  /** This end's address on the current connection; `undefined` between connections. */
  get localAddr(): Deno.Addr | undefined {
    return this.#slot.current?.localAddr;
  }

  /** Resolves once closed for good (`close()`, or it gave up); never rejects. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * Sends one message on the current connection, or waits for the next one
   * (see the class). Rejects with {@linkcode IpcClosedError} when closed,
   * when the connection dropped while it waited for room, or when
   * `sendBufferBytes` already wait for the next connection.
   */
  send(message: Out, options?: IpcSendOptions): Promise<void> {
    if (this.#state === "closed") {
      return Promise.reject(this.#closedError("send a message"));
    }
    if (this.#slot.current !== undefined) {
      return this.#sendOn(this.#link, message, options);
    }
    return this.#slot.hold(this.#waitingSends.push(message, options));
  }

  /** Waits for the next message, across connections; {@linkcode IpcClosedError} once closed. */
  async receive(): Promise<In> {
    const result = await this.#next();
    if (result.done) throw this.#closedError("receive a message");
    return result.value;
  }

  /** The messages, across connections; every call returns the same iterator. */
  [Symbol.asyncIterator](): AsyncIterableIterator<In> {
    return this.#iterator;
  }

  /**
   * Calls `method` in the server, as {@linkcode IpcJsonStream.request}; a
   * call made while reconnecting waits for the connection, within its
   * `timeout` (counted from this call) and `signal`.
   */
  async request<R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<R> {
    const action = `call "${method}"`;
    const { connection, timeout } = await this.#connection(action, options);
    return await this.#whileConnected(
      connection.request<R>(method, params, { ...options, timeout }),
      action,
    );
  }

  /**
   * Calls `method`, an async generator in the server, as
   * {@linkcode IpcJsonStream.stream}; the call starts at the first `next()`,
   * once connected. A drop ends it with an {@linkcode IpcClosedError}.
   */
  stream<T = unknown, R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcStreamOptions,
  ): IpcCallStream<T, R> {
    const action = `call "${method}"`;
    return deferredCallStream<T, R>(
      async () => {
        const { connection, timeout } = await this.#connection(action, options);
        return connection.stream<T, R>(method, params, { ...options, timeout });
      },
      (next) => this.#whileConnected(next, action),
    );
  }

  /**
   * Answers the server's calls of `method` on every connection, as
   * {@linkcode IpcJsonStream.handle}; returns a function that unregisters it.
   */
  handle<P = unknown, R = unknown>(
    method: string,
    handler: IpcHandler<P, R>,
  ): () => void {
    if (this.#handlers.has(method) || method.startsWith("$/")) {
      throw new TypeError(
        method.startsWith("$/")
          ? `Cannot handle "${method}": methods starting with "$/" are reserved for the protocol. Choose another name.`
          : `Cannot handle "${method}": it already has a handler. Unregister it first.`,
      );
    }
    const entry: Registered = {
      handler: handler as IpcHandler<never, unknown>,
      unregister: this.#slot.current?.handle(method, handler),
    };
    this.#handlers.set(method, entry);
    this.#timer.update();
    return () => {
      if (this.#handlers.get(method) !== entry) return;
      this.#handlers.delete(method);
      entry.unregister?.();
      this.#timer.update();
    };
  }

  /**
   * A proxy typed from the server's handlers object `H`, as
   * {@linkcode IpcJsonStream.remote}: its calls go through `request()` and
   * `stream()`, so they wait for the connection while reconnecting.
   */
  remote<H>(): IpcRemote<H> {
    return remote<H>(this);
  }

  /**
   * Resolves once every message sent so far is with the operating system;
   * while reconnecting, once the waiting ones went out on the next
   * connection. Rejects with {@linkcode IpcClosedError} when some never
   * will be written: the connection dropped first (its `cause` says
   * "connection lost; reconnecting"), or the channel closed.
   */
  async flush(): Promise<void> {
    await this.#waitingSends.handedOver();
    const action = "flush the messages sent";
    await this.#whileConnected(this.#link.stream.flush(), action);
  }

  /**
   * The figures of the current connection (the last one between two), and
   * across connections: `reconnects`, how many times it reconnected, and
   * `sendsMaybeLost`, the `send()`s that resolved on a connection that then
   * dropped without the server acknowledging that its program took them
   * (they may have arrived or not; every other resolved `send()` did).
   */
  stats(): IpcStreamStats & { reconnects: number; sendsMaybeLost: number } {
    return {
      ...this.#link.stream.stats(),
      reconnects: this.#reconnects,
      sendsMaybeLost: this.#sendsMaybeLost,
    };
  }

  /**
   * Closes for good: stops reconnecting, closes the connection (writing what
   * it queued first), and rejects what waits for a connection.
   */
  close(): Promise<void> {
    this.#end(undefined);
    return this.#closed.promise;
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // Connections ------------------------------------------------------------

  #attach(connection: NetConnection<In, Out>): void {
    const link: Link<In, Out> = { ...connection, resolved: 0 };
    this.#link = link;
    const { stream, heartbeat } = link;
    heartbeat.trackAcks(() => link.resolved);
    for (const [method, entry] of this.#handlers) {
      entry.unregister = stream.handle(method, entry.handler);
    }
    stream.closed.then(() => this.#onDrop(link));
  }

  /** A send on the connection of `link`, counted there once it resolved. */
  #sendOn(
    link: Link<In, Out>,
    message: Out,
    options: IpcSendOptions | undefined,
  ): Promise<void> {
    // One promise per send, not async frames: sends are the hot path.
    return link.stream.send(message, options).then(() => {
      link.resolved++;
      link.heartbeat.sent();
    }, (error) => {
      throw this.#interrupted(error, "send");
    });
  }

  #onDrop(link: Link<In, Out>): void {
    const { stream, heartbeat } = link;
    if (this.#slot.current !== stream || this.#state === "closed") return;
    this.#slot.empty();
    this.#state = "reconnecting";
    const lost = link.resolved - heartbeat.acknowledged;
    this.#sendsMaybeLost += lost;
    this.#lostAtDrop = lost;
    const peer = this.#reconnector.peer;
    // The heartbeat's failure names the peer and says why.
    const dropped = heartbeat.failure ??
      new Error(`the connection to ${peer} closed`);
    this.#reconnect(dropped).catch((error) => this.#end(toError(error)));
  }

  async #reconnect(dropped: Error): Promise<void> {
    const { settings, connect, peer } = this.#reconnector;
    let failure = dropped;
    for (let attempt = 1; this.#state === "reconnecting"; attempt++) {
      if (attempt > settings.retries) {
        const message =
          `Gave up reconnecting to ${peer} after ${settings.retries} attempts: ${failure.message}`;
        this.#end(new IpcClosedError(message, { cause: failure }), attempt - 1);
        return;
      }
      const delay = backoffDelay(settings, attempt);
      this.#emit({ state: "reconnecting", attempt, error: failure, delay });
      await this.#timer.sleep(delay);
      if (this.#state !== "reconnecting") return;
      let connection: NetConnection<In, Out>;
      try {
        connection = await connect();
      } catch (error) {
        failure = toError(error);
        if (retryable(failure)) continue;
        this.#end(failure, attempt);
        return;
      }
      if (this.#state !== "reconnecting") {
        await connection.stream.close();
        return;
      }
      this.#reconnects++;
      this.#state = "open";
      this.#attach(connection);
      this.#slot.fill(connection.stream);
      const link = this.#link;
      this.#waitingSends.handTo((message, options) =>
        this.#sendOn(link, message, options)
      );
      this.#emit({ state: "open", attempt });
    }
  }

  /**
   * The connection to make a call on, waiting for it while reconnecting,
   * and what is left of the call's `timeout`.
   */
  async #connection(
    action: string,
    options: IpcRequestOptions | undefined,
  ): Promise<{ connection: IpcNetStream<In, Out>; timeout?: number }> {
    const timeout = options?.timeout;
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    const connection = await this.#slot.next(
      deadline,
      options?.signal,
      () =>
        new IpcClosedError(
          `Cannot ${action}: not reconnected to ${this.#reconnector.peer} within its timeout (${timeout} ms).`,
          { cause: connectionLost() },
        ),
    );
    if (connection === undefined) throw this.#closedError(action);
    return {
      connection,
      timeout: timeout === undefined
        ? undefined
        : Math.max(1, deadline - Date.now()),
    };
  }

  /**
   * A call or send on a connection: an {@linkcode IpcClosedError} from it
   * while this channel is not closed means the connection dropped.
   */
  async #whileConnected<T>(promise: Promise<T>, action: string): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      throw this.#interrupted(error, action);
    }
  }

  /** What to reject `action` with for `error` from its connection. */
  #interrupted(error: unknown, action: string): unknown {
    if (!(error instanceof IpcClosedError) || this.#state === "closed") {
      return error;
    }
    return interruptedError(action, this.#reconnector.peer, error);
  }

  // Receiving --------------------------------------------------------------

  async #next(): Promise<IteratorResult<In>> {
    while (true) {
      const connection = await this.#slot.next();
      if (connection === undefined) {
        if (this.#failure === undefined || this.#failureThrown) return DONE;
        this.#failureThrown = true;
        throw this.#failure;
      }
      try {
        const result = await connection[Symbol.asyncIterator]().next();
        if (!result.done) return result;
      } catch (error) {
        // A message the schema refused; the connection goes on.
        if (error instanceof IpcValidationError) throw error;
        // Anything else ended the connection (a message cut by the drop).
      }
      // #onDrop, registered first, has run once this resolves.
      await connection.closed;
    }
  }

  // Lifecycle --------------------------------------------------------------

  /** Closes for good: `failure` when it gave up, `undefined` for `close()`. */
  #end(failure: Error | undefined, attempt = 0): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#failure = failure;
    this.#timer.cancel();
    const connection = this.#slot.current;
    this.#slot.end();
    this.#waitingSends.rejectAll(this.#closedError("send a message"));
    this.#emit({ state: "closed", attempt, error: failure });
    const done = () => this.#closed.resolve();
    (connection?.close() ?? Promise.resolve()).then(done, done);
  }

  #closedError(action: string): IpcClosedError {
    const failure = this.#failure;
    const peer = this.#reconnector.peer;
    return new IpcClosedError(
      failure === undefined
        ? `Cannot ${action}: the channel to ${peer} is closed (close() was called).`
        : `Cannot ${action}: the channel to ${peer} gave up reconnecting (${failure.message}).`,
      { cause: failure },
    );
  }

  #emit(event: IpcReconnectEvent): void {
    if (this.#lostAtDrop !== undefined) {
      event.sendsMaybeLost = this.#lostAtDrop;
      this.#lostAtDrop = undefined;
    }
    try {
      this.#reconnector.settings.onStateChange?.(event);
    } catch {
      // A failing listener must not stop the reconnecting.
    }
  }
}

/**
 * Holds the current connection, or none between two; tasks wait here for
 * the next one, within a deadline or until a signal aborts.
 *
 * @typeParam C The connection.
 */
class ConnectionSlot<C> {
  #current: C | undefined;
  #ended = false;
  #changed = Promise.withResolvers<void>();
  #waiters = 0;
  #waitersChanged: () => void;

  /**
   * @param first The first connection.
   * @param waitersChanged Told when `waiters` changes.
   */
  constructor(first: C, waitersChanged: () => void) {
    this.#current = first;
    this.#waitersChanged = waitersChanged;
  }

  /** The connection, or `undefined` between two and once ended. */
  get current(): C | undefined {
    return this.#current;
  }

  /** Tasks waiting for a connection. */
  get waiters(): number {
    return this.#waiters;
  }

  /** The connection dropped: the slot is empty until `fill()`. */
  empty(): void {
    this.#current = undefined;
  }

  /** A new connection: the waiting tasks take it. */
  fill(connection: C): void {
    this.#current = connection;
    this.#wake();
  }

  /** No connection will come again: the waiting tasks get `undefined`. */
  end(): void {
    this.#ended = true;
    this.#current = undefined;
    this.#wake();
  }

  /**
   * The connection, waiting for the next one while the slot is empty.
   *
   * @param deadline When to give up (`Date.now()` time), throwing `timedOut()`.
   * @param signal Gives up when it aborts, throwing its reason.
   * @returns The connection, or `undefined` once ended.
   */
  async next(
    deadline = Infinity,
    signal?: AbortSignal,
    timedOut?: () => Error,
  ): Promise<C | undefined> {
    if (this.#current !== undefined || this.#ended) return this.#current;
    signal?.throwIfAborted();
    const aborted = Promise.withResolvers<void>();
    const onAbort = () => aborted.resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#hold(+1);
    try {
      while (this.#current === undefined && !this.#ended) {
        const changed = Promise.race([this.#changed.promise, aborted.promise]);
        const inTime = deadline === Infinity
          ? (await changed, true)
          : await settlesWithin(changed, Math.max(0, deadline - Date.now()));
        signal?.throwIfAborted();
        if (!inTime) throw timedOut?.() ?? new Error("timed out");
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#hold(-1);
    }
    return this.#current;
  }

  /** Counts a task waiting for the connection otherwise (a send). */
  hold<T>(promise: Promise<T>): Promise<T> {
    this.#hold(+1);
    return promise.finally(() => this.#hold(-1));
  }

  #hold(change: number): void {
    this.#waiters += change;
    this.#waitersChanged();
  }

  #wake(): void {
    const changed = this.#changed;
    this.#changed = Promise.withResolvers();
    changed.resolve();
  }
}

interface WaitingSend<Out> {
  message: Out;
  options: IpcSendOptions | undefined;
  sent: PromiseWithResolvers<void>;
}

/** How a connection takes a message. */
type SendOn<Out> = (
  message: Out,
  options: IpcSendOptions | undefined,
) => Promise<void>;

/**
 * Sends made while reconnecting, in order. Each waits, as a promise, until
 * it is handed to the next connection; past `limitBytes` waiting (measured
 * as JSON text) a send is refused at once.
 *
 * @typeParam Out The type of the messages.
 */
class WaitingSends<Out> {
  #queue = new ArrayQueue<WaitingSend<Out>>();
  /** The last send queued, which settles after all the others. */
  #last: Promise<void> | undefined;
  #limitBytes: number;
  #peer: string;

  /**
   * @param limitBytes Most bytes waiting (`sendBufferBytes`).
   * @param peer The server, as messages name it.
   */
  constructor(limitBytes: number, peer: string) {
    this.#limitBytes = limitBytes;
    this.#peer = peer;
  }

  /** Sends waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Queues `message` for the next connection.
   *
   * @returns A promise resolved once the connection took it; rejected at
   *   once when the budget is spent, or later by `rejectAll()`.
   */
  push(message: Out, options: IpcSendOptions | undefined): Promise<void> {
    const size = jsonSize(message);
    const waiting = this.#queue.weight;
    if (waiting + size > this.#limitBytes && this.#queue.length > 0) {
      return Promise.reject(
        new IpcClosedError(
          `Cannot send a message while reconnecting to ${this.#peer}: ` +
            `${waiting} bytes already wait for the connection (sendBufferBytes is ${this.#limitBytes}). ` +
            "Await send() to wait for the connection instead of queueing more.",
          { cause: connectionLost() },
        ),
      );
    }
    const sent = Promise.withResolvers<void>();
    this.#queue.push({ message, options, sent }, size);
    this.#last = sent.promise;
    return sent.promise;
  }

  /** Settles as the last waiting send does, once handed over; at once when none waits. */
  handedOver(): Promise<void> {
    return this.#last !== undefined && this.#queue.length > 0
      ? this.#last
      : Promise.resolve();
  }

  /** Hands every waiting send to `send`, in order; each settles as it does. */
  handTo(send: SendOn<Out>): void {
    for (let waiting; (waiting = this.#queue.shift()) !== undefined;) {
      send(waiting.message, waiting.options).then(
        waiting.sent.resolve,
        waiting.sent.reject,
      );
    }
  }

  /** Rejects every waiting send with `error`. */
  rejectAll(error: Error): void {
    for (let waiting; (waiting = this.#queue.shift()) !== undefined;) {
      waiting.sent.reject(error);
    }
  }
}

/** A message's size for the budget: its JSON text's length (an estimate for `"advanced"`). */
function jsonSize(message: unknown): number {
  try {
    return JSON.stringify(message)?.length ?? 0;
  } catch {
    return 0;
  }
}

/**
 * A stream whose call is made by `open()` at the first `next()`; `guard`
 * turns each item's failure into what the caller should see.
 */
function deferredCallStream<T, R>(
  open: () => Promise<IpcCallStream<T, R>>,
  guard: (next: Promise<IteratorResult<T, R | undefined>>) => Promise<
    IteratorResult<T, R | undefined>
  >,
): IpcCallStream<T, R> {
  let inner: Promise<IpcCallStream<T, R>> | undefined;
  let returned = false;
  const stream: IpcCallStream<T, R> = {
    next: async () => {
      if (returned) return DONE;
      inner ??= open();
      return await guard((await inner).next());
    },
    return: async () => {
      returned = true;
      if (inner === undefined) return DONE;
      const items = await inner.catch(() => undefined);
      return items === undefined ? DONE : await items.return();
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
