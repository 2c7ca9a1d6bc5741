/**
 * {@linkcode NatsService}: a worker's calls from NATS — the slots of
 * `concurrency` and the calls waiting for one (`calls/incoming_limit.ts`,
 * the channel's gate), cancellation, draining.
 *
 * @module
 */

import type {
  Msg,
  NatsConnection,
  Subscription,
} from "@nats-io/transport-node";
import type { Service, ServiceMsg } from "@nats-io/services";
import {
  IpcCancelledError,
  IpcMessageTooLargeError,
  IpcRemoteError,
} from "../errors.ts";
import { IncomingCall } from "../calls/call.ts";
import { ErrorCode, errorToWire, type WireError } from "../calls/jsonrpc.ts";
import type { IpcCallContext } from "../calls/types.ts";
import { IncomingLimit } from "../calls/incoming_limit.ts";
import { closeOrFlush } from "./options.ts";
import type { IpcNatsServiceStats } from "./stats.ts";
import type { IpcNatsService } from "./types.ts";
import {
  CALL_ID_HEADER,
  cancelSubject,
  checkPayload,
  decodeParams,
  encodeAnswer,
} from "./wire.ts";

/** Runs one call: a handler, or the pool's `request()`. */
export type CallRunner = (
  method: string,
  params: unknown,
  context: IpcCallContext,
) => unknown;

const decoder = new TextDecoder();

/** One call received, with the method its endpoint serves. */
interface Received {
  method: string;
  msg: ServiceMsg;
}

/** The worker's side; see {@linkcode IpcNatsService}. */
export class NatsService implements IpcNatsService {
  readonly service: string;
  readonly methods: readonly string[];
  readonly connection: NatsConnection;
  readonly stopped: Promise<void>;
  #stoppedResolvers = Promise.withResolvers<void>();
  #owned: boolean;
  #run: CallRunner;
  #nats: Service | undefined;
  #cancels: Subscription;
  /** The `concurrency` slots, and the calls waiting for one. */
  #limit: IncomingLimit<Received>;
  #running = new Map<string, IncomingCall>();
  #idle: PromiseWithResolvers<void> | undefined;
  #stopping: Promise<void> | undefined;
  #handled = 0;
  #handlerErrors = 0;
  #cancelled = 0;

  constructor(
    connection: NatsConnection,
    owned: boolean,
    service: string,
    methods: readonly string[],
    concurrency: number,
    run: CallRunner,
  ) {
    this.connection = connection;
    this.service = service;
    this.methods = methods;
    this.#owned = owned;
    this.#limit = new IncomingLimit<Received>(
      {
        maxConcurrentCalls: concurrency,
        limitBytes: Infinity,
        callsDrained() {},
      },
      ({ method, msg }) => this.#start(method, msg),
    );
    this.#run = run;
    this.stopped = this.#stoppedResolvers.promise;
    this.#cancels = connection.subscribe(cancelSubject(service), {
      callback: (error, msg) => {
        if (error === null) this.#onCancel(msg);
      },
    });
    connection.closed().then(() => this.stop());
  }

  get id(): string {
    return this.#nats?.info().id ?? "";
  }

  /** Sets the registered service; its endpoints call {@linkcode receive}. */
  attach(nats: Service): void {
    this.#nats = nats;
  }

  /** Takes a call from an endpoint. */
  receive(method: string, msg: ServiceMsg): void {
    this.#limit.admit({ method, msg }, 0);
  }

  stats(): IpcNatsServiceStats {
    return {
      running: this.#running.size,
      waiting: this.#limit.waiting,
      handled: this.#handled,
      handlerErrors: this.#handlerErrors,
      cancelled: this.#cancelled,
    };
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#drain();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #drain(): Promise<void> {
    try {
      // Unsubscribes at the server, then delivers what was already sent here.
      if (!this.connection.isClosed()) await this.#nats?.stop();
      while (this.#limit.running > 0 || this.#limit.waiting > 0) {
        this.#idle = Promise.withResolvers<void>();
        await this.#idle.promise;
      }
      await closeOrFlush(
        this.connection,
        this.#owned,
        () => this.#cancels.unsubscribe(),
      );
    } finally {
      this.#stoppedResolvers.resolve();
    }
  }

  /** A call is over: its slot goes to the next (in a microtask, so no call starts inside another's end). */
  #release(): void {
    queueMicrotask(() => {
      this.#limit.release();
      if (this.#limit.running === 0 && this.#limit.waiting === 0) {
        this.#idle?.resolve();
      }
    });
  }

  #start(method: string, msg: ServiceMsg): void {
    const id = msg.headers?.get(CALL_ID_HEADER) || `${msg.sid}:${msg.reply}`;
    if (this.#limit.wasCancelled(id)) {
      this.#cancelled++;
      this.#release();
      return;
    }
    let params: unknown;
    try {
      params = decodeParams(msg.data);
    } catch (error) {
      this.#answerError(msg, {
        code: -32700,
        message: `the params of "${method}" are not JSON: ${
          (error as Error).message
        }`,
        data: { name: "SyntaxError" },
      });
      this.#release();
      return;
    }
    const call = new IncomingCall(method, id);
    this.#running.set(id, call);
    new Promise((resolve) => resolve(this.#run(method, params, call))).then(
      (result) => {
        if (this.#finish(id, call)) this.#answerResult(method, msg, result);
      },
      (error) => {
        if (this.#finish(id, call)) this.#answerError(msg, wireErrorOf(error));
      },
    );
  }

  /** Ends a running call; `false` when it was cancelled (no answer then). */
  #finish(id: string, call: IncomingCall): boolean {
    this.#running.delete(id);
    this.#release();
    return !call.signal.aborted;
  }

  #answerResult(method: string, msg: ServiceMsg, result: unknown): void {
    if (isAsyncIterable(result)) {
      result[Symbol.asyncIterator]().return?.();
      this.#answerError(
        msg,
        errorToWire(
          new TypeError(
            `The handler of "${method}" streams (it returned an async iterable): streaming calls ` +
              `are not served over NATS. Return one result from handlers served with serveNatsCalls().`,
          ),
        ),
      );
      return;
    }
    let body: Uint8Array;
    try {
      body = encodeAnswer({ result });
      checkPayload(
        `the result of "${method}"`,
        body.length,
        this.connection.info?.max_payload,
      );
    } catch (error) {
      this.#answerError(msg, errorToWire(error));
      return;
    }
    this.#handled++;
    msg.respond(body);
  }

  #answerError(msg: ServiceMsg, error: WireError): void {
    this.#handlerErrors++;
    let body = encodeAnswer({ error });
    if (body.length > (this.connection.info?.max_payload ?? Infinity) / 2) {
      body = encodeAnswer({
        error: { code: error.code, message: error.message.slice(0, 1000) },
      });
    }
    msg.respondError(
      error.code,
      error.message.split("\n")[0].slice(0, 200),
      body,
    );
  }

  #onCancel(msg: Msg): void {
    const id = decoder.decode(msg.data);
    const call = this.#running.get(id);
    if (call !== undefined) {
      this.#cancelled++;
      // It keeps its slot until its handler returns.
      call.abort((method) => new IpcCancelledError(method));
      return;
    }
    // A waiting call never runs.
    this.#limit.cancelWaiting(id);
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null &&
    Symbol.asyncIterator in value;
}

/**
 * The error to send for what a call threw: an `IpcRemoteError` from a pool's
 * child is passed on as the child's own error, so the caller sees the name,
 * message, code, data and stack thrown there.
 */
function wireErrorOf(thrown: unknown): WireError {
  if (thrown instanceof IpcRemoteError) {
    const data: Record<string, unknown> = { name: thrown.remoteName };
    if (thrown.remoteStack !== undefined) data.stack = thrown.remoteStack;
    if (thrown.data !== undefined) data.data = thrown.data;
    return { code: thrown.code, message: thrown.remoteMessage, data };
  }
  if (thrown instanceof IpcMessageTooLargeError) {
    return { ...errorToWire(thrown), code: ErrorCode.internalError };
  }
  return errorToWire(thrown);
}
