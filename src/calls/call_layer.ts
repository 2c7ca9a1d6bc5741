/**
 * {@linkcode CallLayer}: `request()` and `handle()` of a channel, as
 * JSON-RPC 2.0 over the same channel as plain messages.
 *
 * The channel creates it on the first `request()` or `handle()` and passes
 * it every received message first; it takes the requests, responses and
 * cancellations it recognises (see `jsonrpc.ts`) and leaves every other
 * message to the channel's iterator.
 *
 * @module
 */

import {
  IpcCancelledError,
  IpcClosedError,
  IpcTimeoutError,
} from "../errors.ts";
import {
  type CallId,
  CANCEL_METHOD,
  classify,
  ErrorCode,
  errorFromWire,
  errorToWire,
  paramsFromWire,
  paramsToWire,
  type RequestMessage,
  type WireError,
} from "./jsonrpc.ts";
import { LatencyHistogram } from "./stats.ts";
import {
  type Arrived,
  type CallReceiving,
  IncomingLimit,
} from "./incoming_limit.ts";
import {
  checkCallStart,
  IncomingCall,
  OutgoingCall,
  PEER_DONE,
  type PeerDoneOption,
} from "./call.ts";
import {
  checkProgressOption,
  type StreamHooks,
  StreamLayer,
} from "./streams.ts";
import type { IpcCallStats } from "./stats.ts";
import type { IpcHandler, IpcRequestOptions } from "./types.ts";

/** What the call layer needs from its channel. */
export interface CallChannel {
  /** Sends one message, as `IpcJsonStream.send()`. */
  send(message: unknown): Promise<void>;
  /** The error for doing `action` on the closed channel, naming why it closed. */
  closedError(action: string): IpcClosedError;
  /** {@linkcode CallLayer.busy} changed. */
  busyChanged(): void;
  /** The receiving side: the call limit and whether plain messages hold reading. */
  readonly receiving: CallReceiving;
}

const noop = () => {};

/** The call layer of one channel; see the module documentation. */
export class CallLayer {
  #channel: CallChannel;
  #closed = false;
  #nextId = 1;
  #outgoing = new Map<number, OutgoingCall>();
  /** Calls this end gave up on whose peer is not done yet: their `PEER_DONE`. */
  #abandoned = new Map<number, () => void>();
  #incoming = new Map<CallId, IncomingCall>();
  /** Who hears the parent's `$/cancelProcess` (graceful cancel). */
  #onCancelProcess: ((params: unknown) => void) | undefined;
  /** A `$/cancelProcess` that came before anyone listened, replayed to the first. */
  #unheardCancel: { params: unknown } | undefined;
  #handlers = new Map<string, IpcHandler<unknown>>();
  #latency = new LatencyHistogram();
  #succeeded = 0;
  #failed = 0;
  #cancelled = 0;
  #handled = 0;
  #handlerErrors = 0;
  #peerCancelled = 0;
  #busy = false;
  /** Streaming calls, both ways (`streams.ts`). */
  readonly streams: StreamLayer;
  /** `maxConcurrentCalls`: the peer's calls that run, and those that wait. */
  #limit: IncomingLimit<Arrived>;
  /** Methods whose calls run at once, outside the limit (see {@linkcode CallLayer.limitCalls}). */
  #unlimited = new Set<string>();

  /** @param channel The channel, seen through what the layer needs. */
  constructor(channel: CallChannel) {
    this.#channel = channel;
    this.#limit = new IncomingLimit(
      channel.receiving,
      (arrived) => this.#start(arrived, true),
    );
    this.streams = new StreamLayer({
      send: (message) => channel.send(message),
      request: (method, params, options, stream) =>
        this.request(method, params, options, stream),
      fail: (id, error) => this.#abandon(id, error, "failed"),
    });
  }

  /**
   * Calls `method` in the peer; see `IpcJsonStream.request()`.
   *
   * @param stream For a streaming call: its announcement, and its timeout's
   *   message.
   * @returns The result the peer's handler returned.
   */
  request(
    method: string,
    params: unknown,
    options: IpcRequestOptions | undefined,
    stream?: StreamHooks,
  ): Promise<unknown> {
    const peerDone = (options as PeerDoneOption | undefined)?.[PEER_DONE];
    if (typeof method !== "string") {
      peerDone?.();
      return Promise.reject(
        new TypeError(
          `The method to call must be a string, got ${typeof method}.`,
        ),
      );
    }
    if (this.#closed) {
      this.#failed++;
      peerDone?.();
      return Promise.reject(
        this.#channel.closedError(`call "${method}"`),
      );
    }
    const signal = options?.signal;
    const timeout = options?.timeout;
    try {
      checkCallStart(timeout, signal);
      checkProgressOption(options?.onProgress);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) this.#cancelled++;
      else this.#failed++;
      peerDone?.();
      return Promise.reject(error);
    }
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const call = new OutgoingCall(method, resolve, reject, performance.now());
    call.peerDone = peerDone;
    this.#outgoing.set(id, call);
    this.#updateBusy();
    const message: RequestMessage = params === undefined
      ? { jsonrpc: "2.0", id, method }
      : { jsonrpc: "2.0", id, method, params: paramsToWire(params) };
    stream?.announce(id);
    this.streams.watchProgress(id, options?.onProgress, promise);
    this.#channel.send(message).then(
      undefined,
      (error) => this.#onRequestNotSent(id, error),
    );
    call.watch(
      timeout,
      (timeout) => {
        const receiveBufferFull = this.#channel.receiving.plainFull;
        this.#abandon(
          id,
          new IpcTimeoutError(
            method,
            timeout,
            stream?.timeoutMessage(timeout, receiveBufferFull),
            { receiveBufferFull },
          ),
          "failed",
        );
      },
      signal,
      (reason) => this.#abandon(id, reason, "cancelled"),
    );
    return promise;
  }

  /**
   * Registers the handler of `method`; see `IpcJsonStream.handle()`.
   *
   * @returns A function that unregisters it.
   */
  handle(method: string, handler: IpcHandler<never>): () => void {
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
    this.#updateBusy();
    return () => {
      if (this.#handlers.get(method) !== registered) return;
      this.#handlers.delete(method);
      this.#updateBusy();
    };
  }

  /**
   * Takes `message` if it belongs to the call layer. Called for every
   * received message, before it is queued for the iterator; never throws.
   * A request runs now, or waits its turn under `maxConcurrentCalls`.
   *
   * @param size The message's size in bytes, which a waiting request weighs.
   * @returns `true` when the message was a call, an answer or a
   *   cancellation, so the iterator must not see it.
   */
  intercept(message: unknown, size = 0): boolean {
    const call = classify(message);
    if (call === undefined) return this.streams.intercept(message, size);
    switch (call.kind) {
      case "request": {
        const { id, method } = call.message;
        const arrived = {
          message: call.message,
          announced: this.streams.takeAnnouncement(id),
        };
        if (this.#unlimited.has(method)) this.#start(arrived, false);
        else this.#limit.admit(arrived, size);
        return true;
      }
      case "response":
        return this.#onResponse(call.id, call.error, call.result);
      case "cancel": {
        const running = this.#incoming.get(call.id);
        if (running === undefined) this.#limit.cancelWaiting(call.id);
        else this.#peerCancel(running);
        return true;
      }
      case "notification": {
        // `$/cancelProcess`, the only notification classify() names.
        const listener = this.#onCancelProcess;
        if (listener !== undefined) listener(call.params);
        else this.#unheardCancel = { params: call.params };
        return true;
      }
    }
  }

  /**
   * Hands the parent's `$/cancelProcess` notifications to `listener` (the
   * child's `getCancelSignal()`); one that came before is replayed at once.
   */
  onCancelProcess(listener: (params: unknown) => void): void {
    this.#onCancelProcess = listener;
    const unheard = this.#unheardCancel;
    this.#unheardCancel = undefined;
    if (unheard !== undefined) listener(unheard.params);
  }

  /**
   * `true` when more than `receiveBufferBytes` of the peer's calls wait to
   * run: the channel must stop reading (see `IncomingLimit.full`).
   */
  get full(): boolean {
    return this.#limit.full;
  }

  /**
   * Runs at most `max` of the peer's calls at once from now on (never more
   * than `maxConcurrentCalls`), and the calls of `unlimited` at once,
   * outside the limit. For the library's layers (a pool's `concurrency`).
   *
   * @returns The limit now in effect.
   */
  limitCalls(max: number, unlimited: readonly string[]): number {
    for (const method of unlimited) this.#unlimited.add(method);
    this.#limit.setMax(max);
    return this.#limit.max;
  }

  /**
   * The channel closed: calls waiting for an answer reject, running handlers
   * are told through their signal, and the process may exit.
   */
  onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#limit.clear();
    const outgoing = [...this.#outgoing.values()];
    this.#outgoing.clear();
    for (const call of outgoing) {
      this.#failed++;
      call.settle();
      call.peerDone?.();
      call.reject(
        this.#channel.closedError(`get an answer to the call "${call.method}"`),
      );
    }
    const abandoned = [...this.#abandoned.values()];
    this.#abandoned.clear();
    for (const peerDone of abandoned) peerDone();
    const incoming = [...this.#incoming.values()];
    this.#incoming.clear();
    for (const call of incoming) {
      call.abort((method) =>
        this.#channel.closedError(`answer the call "${method}"`)
      );
    }
    this.#updateBusy();
  }

  /** The figures of the calls made in each direction. */
  stats(): IpcCallStats {
    return {
      inFlight: this.#outgoing.size,
      succeeded: this.#succeeded,
      failed: this.#failed,
      cancelled: this.#cancelled,
      handling: this.#incoming.size,
      waiting: this.#limit.waiting,
      handled: this.#handled,
      handlerErrors: this.#handlerErrors,
      peerCancelled: this.#peerCancelled,
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
      // dropped, once it told that its handler ended; an id this end never
      // used is not ours: a plain message.
      this.#peerDoneAfterAbandon(id);
      return Number.isSafeInteger(id) && (id as number) > 0 &&
        (id as number) < this.#nextId;
    }
    this.#outgoing.delete(id as number);
    this.#updateBusy();
    call.settle();
    // Before the caller can see the answer, which may run its code at once.
    call.peerDone?.();
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

  /** The peer is done with call `id`, which this end gave up on. */
  #peerDoneAfterAbandon(id: CallId): void {
    if (typeof id !== "number") return;
    const peerDone = this.#abandoned.get(id);
    if (peerDone === undefined) return;
    this.#abandoned.delete(id);
    peerDone();
  }

  /**
   * This end gave up on call `id` (a timeout, an abort, a stream's loop
   * leaving or its peer breaking the protocol): reject now, count it as
   * `outcome`, and tell the peer.
   */
  #abandon(
    id: number,
    reason: unknown,
    outcome: "failed" | "cancelled",
  ): void {
    const call = this.#rejectOutgoing(id, reason, outcome);
    if (call === undefined) return;
    // Its answer still comes, when the peer's handler really ends.
    if (call.peerDone !== undefined) this.#abandoned.set(id, call.peerDone);
    this.#channel.send({
      jsonrpc: "2.0",
      method: CANCEL_METHOD,
      params: { id },
    }).then(undefined, noop);
  }

  /** `send()` refused the request (not JSON, too large) or the channel closed. */
  #onRequestNotSent(id: number, error: unknown): void {
    this.#outgoing.get(id)?.peerDone?.();
    this.#peerDoneAfterAbandon(id);
    this.#rejectOutgoing(id, error);
  }

  /** Forgets call `id` and rejects it; `undefined` when it had settled already. */
  #rejectOutgoing(
    id: number,
    reason: unknown,
    outcome: "failed" | "cancelled" = "failed",
  ): OutgoingCall | undefined {
    const call = this.#outgoing.get(id);
    if (call === undefined) return undefined;
    this.#outgoing.delete(id);
    this.#updateBusy();
    call.settle();
    if (outcome === "cancelled") this.#cancelled++;
    else this.#failed++;
    call.reject(reason);
    return call;
  }

  // Calls the peer makes -------------------------------------------------

  /**
   * Starts a request with its `$/stream` announcement in place; `limited`
   * when it holds a place under the limit until its answer is sent.
   */
  #start({ message, announced }: Arrived, limited: boolean): void {
    const pending = this.streams.swapAnnouncement(announced);
    this.#onRequest(message, limited);
    this.streams.swapAnnouncement(pending);
  }

  #onRequest(message: RequestMessage, limited: boolean): void {
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
      }, limited);
      return;
    }
    const call = new IncomingCall(method, id, this.streams);
    if (limited && this.#limit.wasCancelled(id)) {
      // Cancelled while it waited: it never runs; the caller ignores the answer.
      this.#peerCancel(call);
      this.#finishIncoming(call, new IpcCancelledError(method), true, true);
      return;
    }
    this.#incoming.set(id, call);
    this.#updateBusy();
    let result: unknown;
    try {
      result = this.streams.adopt(
        call,
        handler(paramsFromWire(message.params), call),
      );
    } catch (error) {
      this.#finishIncoming(call, error, true, limited);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        (value) => this.#finishIncoming(call, value, false, limited),
        (error) => this.#finishIncoming(call, error, true, limited),
      );
    } else {
      this.#finishIncoming(call, result, false, limited);
    }
  }

  /** The peer cancelled `call`: its handler's signal fires. */
  #peerCancel(call: IncomingCall): void {
    call.peerCancelled = true;
    call.abort((method) => new IpcCancelledError(method));
  }

  #finishIncoming(
    call: IncomingCall,
    outcome: unknown,
    threw: boolean,
    limited: boolean,
  ): void {
    if (this.#incoming.get(call.id) === call) {
      this.#incoming.delete(call.id);
      this.#updateBusy();
    }
    if (this.#closed) return;
    // The peer ignores the answer, but sending it frees the call's place.
    if (call.peerCancelled) this.#peerCancelled++;
    else if (threw) this.#handlerErrors++;
    else this.#handled++;
    if (threw) {
      this.#answer(call.id, {
        jsonrpc: "2.0",
        id: call.id,
        error: errorToWire(outcome),
      }, limited);
    } else {
      this.#answer(call.id, {
        jsonrpc: "2.0",
        id: call.id,
        result: outcome === undefined ? null : outcome,
      }, limited);
    }
  }

  /**
   * Sends an answer (or an error saying why it cannot be), then frees the
   * call's place if it held one.
   */
  #answer(id: CallId, response: unknown, limited: boolean): void {
    const release = limited ? () => this.#limit.release() : noop;
    this.#channel.send(response).then(release, (error) => {
      release();
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

  /**
   * `true` while a call waits for its answer, a handler runs, or a handler
   * is registered: the channel then keeps the process alive, as it does
   * while a `receive()` waits.
   */
  get busy(): boolean {
    return this.#busy;
  }

  #updateBusy(): void {
    const busy = !this.#closed &&
      (this.#outgoing.size > 0 || this.#handlers.size > 0 ||
        this.#incoming.size > 0);
    if (busy === this.#busy) return;
    this.#busy = busy;
    this.#channel.busyChanged();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
