/**
 * {@linkcode Dispatcher}: a pool's calls — sending each to the least busy
 * child (starting one when all are busy and the pool may grow), queueing
 * the rest, settling each with its answer or the right error, and counting
 * them.
 *
 * @module
 */

import { checkCallStart } from "../calls/check_call_start.ts";
import { IpcRemoteError, IpcTimeoutError } from "../calls/errors.ts";
import { LatencyHistogram } from "../calls/latency.ts";
import type { IpcRequestOptions } from "../calls/types.ts";
import { IpcClosedError } from "../channel/errors.ts";
import { IpcChildExitedError } from "../process/errors.ts";
import { CallQueue, queueTimeoutError } from "./call_queue.ts";
import { IpcQueueFullError } from "./errors.ts";
import type { IpcPoolRequestOptions, PoolSettings } from "./options.ts";
import { PoolCall } from "./pool_call.ts";
import { poolRun } from "./pool_stream.ts";
import type { PoolChild } from "./pool_child.ts";
import type { Recycler } from "./recycler.ts";
import type { Supervisor } from "./supervisor.ts";

/** Sends, queues, settles and counts a pool's calls; see the module documentation. */
export class Dispatcher {
  #settings: PoolSettings;
  #children: Supervisor;
  #recycler: Recycler;
  /** Calls waiting for a child. */
  #queue = new CallQueue((call, reason) => {
    this.#reject(call, reason);
    this.#afterCall();
  });
  #inFlight = 0;
  /** Why new calls are refused, once the pool closes. */
  #closed: string | undefined;
  /** Why running calls were cancelled, once the pool closes with force. */
  #forced: string | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  #room: PromiseWithResolvers<void> | undefined;

  /** Calls that got a result. */
  succeeded = 0;
  /** Calls that failed. */
  failed = 0;
  /** `request()` to the answer. */
  readonly latency: LatencyHistogram = new LatencyHistogram();
  /** `request()` to sent. */
  readonly waitTime: LatencyHistogram = new LatencyHistogram();
  /** Sent to answered. */
  readonly runTime: LatencyHistogram = new LatencyHistogram();

  /**
   * @param settings The pool's settings.
   * @param children The pool's children.
   * @param recycler Retires children by the recycling settings.
   */
  constructor(
    settings: PoolSettings,
    children: Supervisor,
    recycler: Recycler,
  ) {
    this.#settings = settings;
    this.#children = children;
    this.#recycler = recycler;
  }

  /** Calls waiting for a child. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Calls sent to a child and not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether a call now would be refused with `IpcQueueFullError`. */
  get full(): boolean {
    return this.#queue.length >= this.#settings.maxQueue &&
      this.#closed === undefined &&
      !this.#children.hasRoom(this.#settings.concurrency);
  }

  /** Resolves once a call would not be refused for a full queue (or the pool closes). */
  ready(): Promise<void> {
    if (!this.full) return Promise.resolve();
    this.#room ??= Promise.withResolvers<void>();
    return this.#room.promise;
  }

  /** Sends or queues a call; see `IpcPool.request()`. */
  submit<R>(
    method: string,
    params: unknown,
    options: IpcPoolRequestOptions | undefined,
  ): Promise<R> {
    if (this.#closed !== undefined) {
      this.failed++;
      return Promise.reject(
        new IpcClosedError(`Cannot call "${method}": ${this.#closed}`),
      );
    }
    const signal = options?.signal;
    const timeout = options?.timeout ?? this.#settings.timeout;
    try {
      checkCallStart(timeout, signal);
    } catch (error) {
      this.failed++;
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const call = new PoolCall(
      method,
      params,
      signal,
      timeout === Infinity ? undefined : timeout,
      resolve as (value: unknown) => void,
      reject,
      options?.killOnTimeout ?? this.#settings.killOnTimeout,
    );
    call.run = poolRun(method, params, options);
    const child = this.#queue.length === 0 ? this.#freeChild() : undefined;
    if (child !== undefined) {
      this.#dispatch(call, child);
    } else if (this.#queue.length >= this.#settings.maxQueue) {
      this.failed++;
      return Promise.reject(
        new IpcQueueFullError(method, this.#settings.maxQueue),
      );
    } else {
      this.#queue.push(call);
    }
    return promise;
  }

  /** Sends queued calls to free children. */
  pump(): void {
    while (this.#queue.length > 0) {
      const child = this.#freeChild();
      if (child === undefined) return;
      const call = this.#queue.shift();
      if (call === undefined) return;
      this.#dispatch(call, child);
    }
  }

  /** Rejects every queued call with `error`. */
  failQueued(error: unknown): void {
    let call;
    while ((call = this.#queue.shift()) !== undefined) {
      this.#reject(call, error);
    }
    this.#afterCall();
  }

  /**
   * Refuses new calls from now on, with `why`; with `force`, also rejects
   * the queued ones, and running ones once their child stops.
   */
  stop(why: string, force: boolean): void {
    this.#closed ??= why;
    if (force) {
      this.#forced ??= why;
      this.failQueued(
        new IpcClosedError(`The call was never sent: ${this.#forced}`),
      );
    }
    this.#room?.resolve();
    this.#room = undefined;
  }

  /** Resolves once no call is queued or running. */
  drained(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      return Promise.resolve();
    }
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /** A free child, or a new one when every child is busy and the pool may grow. */
  #freeChild(): PoolChild | undefined {
    return this.#children.leastBusy(this.#settings.concurrency) ??
      this.#children.grow();
  }

  #dispatch(call: PoolCall, child: PoolChild): void {
    call.stopWaiting();
    let options: IpcRequestOptions | undefined;
    if (call.deadline !== undefined) {
      const remaining = call.deadline - performance.now();
      if (remaining <= 0) {
        this.#reject(call, queueTimeoutError(call));
        return;
      }
      options = { signal: call.signal, timeout: remaining };
    } else if (call.signal !== undefined) {
      options = { signal: call.signal };
    }
    call.state = "running";
    call.sentAt = performance.now();
    this.waitTime.record(call.sentAt - call.start);
    child.begin();
    if (call.noneAhead) child.noneAhead++;
    this.#inFlight++;
    const ipc = child.process.ipc;
    (call.run?.(ipc, options) ?? ipc.request(call.method, call.params, options))
      .then(
        (result) => this.#onAnswer(call, child, result),
        (error) => this.#onCallFailed(call, child, error),
      );
    this.#recycler.sent(child);
  }

  #onAnswer(call: PoolCall, child: PoolChild, result: unknown): void {
    this.#answered(call, child);
    this.succeeded++;
    call.state = "done";
    call.resolve(result);
    this.#release(call, child);
    this.#afterCall();
  }

  #onCallFailed(call: PoolCall, child: PoolChild, error: unknown): void {
    if (error instanceof IpcClosedError) {
      if (this.#forced !== undefined) {
        this.#reject(
          call,
          new IpcClosedError(
            `The call "${call.method}" was cancelled: ${this.#forced}`,
            { cause: error },
          ),
        );
        this.#release(call, child);
        this.#afterCall();
        return;
      }
      // The child's channel closed under the call: report how the child ended.
      child.exited.promise.then((status) => {
        this.#reject(
          call,
          new IpcChildExitedError(call.method, child.process.pid, status, {
            cause: error,
            reason: this.#recycler.explain(child, status),
          }),
        );
        this.#release(call, child);
        this.#afterCall();
      });
      return;
    }
    if (error instanceof IpcRemoteError) this.#answered(call, child);
    const timedOut = error instanceof IpcTimeoutError &&
      call.timeout !== undefined;
    this.#reject(
      call,
      timedOut
        ? new IpcTimeoutError(call.method, call.timeout!, undefined, {
          pid: child.process.pid,
          receiveBufferFull: (error as IpcTimeoutError).receiveBufferFull,
          cause: error,
        })
        : error,
    );
    if (timedOut && call.killOnTimeout) {
      this.#recycler.timedOut(child, call.method, call.timeout!);
    }
    this.#release(call, child);
    this.#afterCall();
  }

  /** The child answered `call`, with a result or its handler's error. */
  #answered(call: PoolCall, child: PoolChild): void {
    const now = performance.now();
    this.latency.record(now - call.start);
    this.runTime.record(now - call.sentAt);
    this.#children.answered(child);
    this.#recycler.answered(child);
  }

  #release(call: PoolCall, child: PoolChild): void {
    if (call.noneAhead) child.noneAhead--;
    this.#inFlight--;
    if (child.end()) this.#children.released(child);
  }

  #reject(call: PoolCall, error: unknown): void {
    call.stopWaiting();
    call.state = "done";
    this.failed++;
    call.reject(error);
  }

  #afterCall(): void {
    this.pump();
    if (
      this.#drained !== undefined && this.#queue.length === 0 &&
      this.#inFlight === 0
    ) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
    if (this.#room !== undefined && !this.full) {
      this.#room.resolve();
      this.#room = undefined;
    }
  }
}
