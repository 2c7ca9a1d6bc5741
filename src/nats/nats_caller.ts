/**
 * {@linkcode NatsCaller}: the calls of `connectNatsCalls()` — ids, the calls
 * waiting for their answer, timeouts, cancellation, figures.
 *
 * @module
 */

import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  nuid,
  type Subscription,
} from "@nats-io/transport-node";
import {
  IpcClosedError,
  IpcMessageTooLargeError,
  IpcNoRespondersError,
  IpcProtocolError,
  IpcTimeoutError,
} from "../errors.ts";
import { checkCallStart, OutgoingCall } from "../calls/call.ts";
import { errorFromWire } from "../calls/jsonrpc.ts";
import { LatencyHistogram } from "../calls/stats.ts";
import { type IpcCaller, remote } from "../calls/remote.ts";
import type { IpcRequestOptions } from "../calls/types.ts";
import { checkName, closeOrFlush } from "./options.ts";
import type { IpcNatsCallerStats } from "./stats.ts";
import type { IpcNatsCaller, IpcNatsRemote } from "./types.ts";
import {
  CALL_ID_HEADER,
  cancelSubject,
  checkPayload,
  decodeAnswer,
  encodeParams,
  headerBytes,
  methodSubject,
} from "./wire.ts";

/** One call waiting for its answer: the channel's pending-call record, with its subject. */
class PendingCall extends OutgoingCall {
  constructor(
    method: string,
    readonly subject: string,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ) {
    super(method, resolve, reject, performance.now());
  }
}

const encoder = new TextEncoder();

/** The caller's side; see {@linkcode IpcNatsCaller}. */
export class NatsCaller implements IpcNatsCaller {
  readonly service: string;
  readonly connection: NatsConnection;
  #owned: boolean;
  #timeout: number;
  #inbox: string;
  #answers: Subscription;
  #pending = new Map<string, PendingCall>();
  #closed: Promise<void> | undefined;
  #closedReason = "";
  #latency = new LatencyHistogram();
  #succeeded = 0;
  #failed = 0;
  #noResponders = 0;
  #timedOut = 0;
  #tooLarge = 0;

  constructor(
    connection: NatsConnection,
    owned: boolean,
    service: string,
    timeout: number,
  ) {
    this.connection = connection;
    this.service = service;
    this.#owned = owned;
    this.#timeout = timeout;
    this.#inbox = createInbox();
    this.#answers = connection.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (error === null) this.#onAnswer(msg);
      },
    });
    connection.closed().then(() => {
      this.#closedReason ||=
        "its NATS connection closed (the client gave up reconnecting, or it was closed)";
      this.#failAll();
    });
  }

  request<R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<R> {
    if (this.#closedReason !== "") {
      this.#failed++;
      return Promise.reject(this.#closedError(method));
    }
    const timeout = options?.timeout ?? this.#timeout;
    const signal = options?.signal;
    const id = nuid.next();
    const subject = methodSubject(this.service, method);
    let body: Uint8Array;
    try {
      checkName("request()", "method", method);
      checkCallStart(timeout, signal);
      body = encodeParams(params);
      checkPayload(
        `the params of "${method}"`,
        body.length + headerBytes(id),
        this.connection.info?.max_payload,
      );
    } catch (error) {
      this.#failed++;
      if (error instanceof IpcMessageTooLargeError) this.#tooLarge++;
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const call = new PendingCall(
      method,
      subject,
      resolve as (value: unknown) => void,
      reject,
    );
    const h = headers();
    h.set(CALL_ID_HEADER, id);
    try {
      this.connection.publish(subject, body, {
        reply: `${this.#inbox}.${id}`,
        headers: h,
      });
    } catch (error) {
      this.#failed++;
      return Promise.reject(
        this.connection.isClosed() ? this.#closedError(method) : error,
      );
    }
    this.#pending.set(id, call);
    call.watch(
      timeout,
      () => {
        this.#timedOut++;
        this.#cancel(
          id,
          new IpcTimeoutError(
            method,
            timeout,
            `The call "${method}" got no answer over NATS within its timeout of ${timeout} ms, ` +
              `and was cancelled in the worker that had it. Raise the timeout, make the handler faster, ` +
              `or check that the workers and the NATS server are up.`,
          ),
        );
      },
      signal,
      (reason) => this.#cancel(id, reason),
    );
    return promise;
  }

  remote<H>(): IpcNatsRemote<H> {
    const caller: IpcCaller = {
      request: (method, params, options) =>
        this.request(method, params, options),
      stream: (method) => {
        throw new TypeError(
          `Cannot stream "${method}" over NATS: streaming calls are only for channels and pools. ` +
            `Await the call for one result instead.`,
        );
      },
    };
    return remote<H>(caller) as unknown as IpcNatsRemote<H>;
  }

  stats(): IpcNatsCallerStats {
    const latency = this.#latency;
    return {
      inFlight: this.#pending.size,
      succeeded: this.#succeeded,
      failed: this.#failed,
      noResponders: this.#noResponders,
      timedOut: this.#timedOut,
      tooLarge: this.#tooLarge,
      latency: latency.summary(),
    };
  }

  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closedReason ||= "close() was called";
    this.#failAll();
    this.#closed = (async () => {
      if (this.connection.isClosed()) return;
      await closeOrFlush(
        this.connection,
        this.#owned,
        () => this.#answers.unsubscribe(),
      );
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onAnswer(msg: Msg): void {
    const id = msg.subject.slice(this.#inbox.length + 1);
    const call = this.#take(id);
    if (call === undefined) return; // late: the call timed out or was cancelled
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.#noResponders++;
      this.#failed++;
      call.reject(new IpcNoRespondersError(call.method, call.subject));
      return;
    }
    this.#latency.record(performance.now() - call.start);
    const answer = decodeAnswer(msg.data);
    if (answer === undefined) {
      this.#failed++;
      const excerpt = new TextDecoder().decode(msg.data.subarray(0, 60));
      call.reject(
        new IpcProtocolError(
          `The answer to "${call.method}" is not a call's answer ({"result"} or {"error"} as JSON): ` +
            `${
              JSON.stringify(excerpt)
            }. Is something other than serveNatsCalls() listening on "${call.subject}"?`,
          { messageIndex: 0, byteOffset: 0, excerpt, truncated: false },
        ),
      );
    } else if ("error" in answer) {
      this.#failed++;
      call.reject(errorFromWire(call.method, answer.error));
    } else {
      this.#succeeded++;
      call.resolve(answer.result);
    }
  }

  /** Removes a call from those waiting, and its timer and abort listener. */
  #take(id: string): PendingCall | undefined {
    const call = this.#pending.get(id);
    if (call === undefined) return undefined;
    this.#pending.delete(id);
    call.settle();
    return call;
  }

  /** Rejects a call and tells the workers to stop it. */
  #cancel(id: string, reason: unknown): void {
    const call = this.#take(id);
    if (call === undefined) return;
    this.#failed++;
    call.reject(reason);
    try {
      this.connection.publish(cancelSubject(this.service), encoder.encode(id));
    } catch {
      // The connection is closed: no worker runs the call any more either.
    }
  }

  /** Rejects every call waiting, and cancels them in the workers. */
  #failAll(): void {
    for (const id of [...this.#pending.keys()]) {
      this.#cancel(id, this.#closedError(this.#pending.get(id)!.method));
    }
  }

  #closedError(method: string): IpcClosedError {
    return new IpcClosedError(
      `Cannot complete the call "${method}" over NATS: the caller is closed (${this.#closedReason}). ` +
        `Connect again with connectNatsCalls().`,
    );
  }
}
