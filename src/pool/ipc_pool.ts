/**
 * {@linkcode IpcPool}: a fixed number of Deno children running the same
 * module, each answering calls; calls go to the least busy child, wait in a
 * bounded queue when every child is busy, and a child that exits is
 * replaced.
 *
 * @module
 */

import { checkCallStart } from "../calls/call_layer.ts";
import { IpcRemoteError, IpcTimeoutError } from "../calls/errors.ts";
import { LatencyHistogram } from "../calls/latency.ts";
import type { IpcRequestOptions } from "../calls/types.ts";
import type { IpcCallStream, IpcStreamOptions } from "../calls/stream_types.ts";
import type {
  IpcCallArgs,
  IpcCallMethods,
  IpcRequestResult,
  IpcReturnOf,
  IpcStreamItem,
  IpcStreamMethods,
  IpcUntypedHandlers,
} from "../calls/typed.ts";
import { poolRun, PoolStream } from "./pool_stream.ts";
import { IpcClosedError } from "../channel/errors.ts";
import { IpcChildExitedError } from "../process/errors.ts";
import {
  type IpcChildProcess,
  spawnWithIpc,
} from "../process/spawn_with_ipc.ts";
import { CallQueue, queueTimeoutError } from "./call_queue.ts";
import { IpcQueueFullError } from "./errors.ts";
import {
  checkPoolOptions,
  type IpcPoolOptions,
  type PoolSettings,
} from "./options.ts";
import { PoolCall } from "./pool_call.ts";
import {
  type PlainMessageCounts,
  readPlainMessages,
} from "./plain_messages.ts";
import type { PoolChild } from "./pool_child.ts";
import type { IpcPoolStats } from "./stats.ts";
import { Supervisor } from "./supervisor.ts";

/**
 * A pool of Deno children that answer calls: spreads CPU-bound work over
 * every core, like Python's `multiprocessing.Pool` or piscina, with each
 * child in its own process with only the permissions it is given.
 *
 * Each child runs `module`, which registers handlers (see
 * `serveParentCalls()`). `pool.request()` sends a call to the least busy
 * child; when every child is busy (`concurrency` calls each) it waits in a
 * queue of at most `maxQueue` calls. A child that exits, crashes or is
 * killed rejects the calls it was running with
 * {@linkcode IpcChildExitedError} and is replaced; the pool keeps serving.
 * `close()` lets queued and running calls finish, then stops the children.
 *
 * The pool keeps the process alive until it is closed.
 *
 * @example A pool of two children (`deno run --allow-run --allow-env main.ts`)
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 *
 * // worker.ts: serveParentCalls({ fib: ({ n }: { n: number }) => fib(n) });
 * await using pool = new IpcPool({
 *   module: new URL("./worker.ts", import.meta.url),
 *   size: 2,
 *   permissions: { read: ["/tmp"] },
 * });
 * const results = await Promise.all(
 *   [30, 31, 32].map((n) => pool.request<number>("fib", { n }, { timeout: 10_000 })),
 * );
 * console.log(results, pool.stats().latency.p99);
 * ```
 */
export class IpcPool<H = IpcUntypedHandlers> implements AsyncDisposable {
  #options: IpcPoolOptions;
  #settings: PoolSettings;

  #children: Supervisor;

  /** Calls waiting for a child. */
  #queue = new CallQueue((call, reason) => {
    this.#reject(call, reason);
    this.#afterCall();
  });
  #inFlight = 0;

  #closing = false;
  #drained: PromiseWithResolvers<void> | undefined;
  #closePromise: Promise<void> | undefined;

  #succeeded = 0;
  #failed = 0;
  #latency = new LatencyHistogram();
  #plain: PlainMessageCounts = { delivered: 0, dropped: 0 };

  /**
   * Starts the children.
   *
   * @param options The module, the number of children, their permissions,
   *   the queue bound and the channel options.
   * @throws {TypeError} When an option has the wrong type, or `denoArgs`
   *   holds a permission flag.
   * @throws {RangeError} When an option's value is out of range.
   * @throws {Deno.errors.NotCapable} When this process lacks `--allow-run`
   *   or `--allow-env`.
   */
  constructor(options: IpcPoolOptions) {
    this.#options = options;
    this.#settings = checkPoolOptions(options);
    this.#children = new Supervisor(
      this.#settings.size,
      () => this.#spawn(),
      {
        started: () => this.#pump(),
        // Fail the waiting calls rather than leave them hanging.
        cannotStart: (error) => this.#failQueued(error),
      },
    );
  }

  /** The number of children the pool keeps running. */
  get size(): number {
    return this.#settings.size;
  }

  /**
   * Calls `method` in the least busy child, or queues the call until a
   * child is free.
   *
   * @typeParam R The type of the result (not checked).
   * @param method The method's name.
   * @param params Its parameters: any JSON value.
   * @param options A `signal` to cancel the call and a `timeout` (time in
   *   the queue included); the pool's `timeout` by default.
   * @returns The handler's result.
   * @throws {IpcQueueFullError} (as a rejection) When `maxQueue` calls
   *   already wait; nothing was queued.
   * @throws {IpcChildExitedError} (as a rejection) When the child running
   *   the call exited first; the call was not retried.
   * @throws {IpcRemoteError} (as a rejection) When the handler threw.
   * @throws {IpcTimeoutError} (as a rejection) When `timeout` passed first.
   * @throws {IpcClosedError} (as a rejection) When the pool is closing.
   *
   * @example
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
   * console.log(await pool.request("fib", { n: 25 }, { timeout: 5000 }));
   * ```
   */
  request<R = unknown, M extends IpcCallMethods<H> = IpcCallMethods<H>>(
    method: M,
    ...args: IpcCallArgs<H[M & keyof H], IpcRequestOptions>
  ): Promise<IpcRequestResult<H, M, NoInfer<R>>>;
  request(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<unknown> {
    if (this.#closing) {
      this.#failed++;
      return Promise.reject(
        new IpcClosedError(
          `Cannot call "${method}": the pool is closed (close() was called). Create a new pool.`,
        ),
      );
    }
    const signal = options?.signal;
    const timeout = options?.timeout ?? this.#settings.timeout;
    try {
      checkCallStart(timeout, signal);
    } catch (error) {
      this.#failed++;
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const call = new PoolCall(
      method,
      params,
      signal,
      timeout === Infinity ? undefined : timeout,
      resolve,
      reject,
    );
    call.run = poolRun(method, params, options);
    const child = this.#queue.length === 0
      ? this.#children.leastBusy(this.#settings.concurrency)
      : undefined;
    if (child !== undefined) {
      this.#dispatch(call, child);
    } else if (this.#queue.length >= this.#settings.maxQueue) {
      this.#failed++;
      return Promise.reject(
        new IpcQueueFullError(method, this.#settings.maxQueue),
      );
    } else {
      this.#queue.push(call);
    }
    return promise;
  }

  /**
   * Calls `method`, whose handler is an async generator, in the least busy
   * child (or queues the call until a child is free) and iterates what it
   * yields, as `IpcJsonStream.stream()` does. The stream stays on that child
   * and counts as one call in flight there until its generator ends;
   * `timeout` (the pool's by default) covers the whole stream. Example:
   * `for await (const line of pool.stream("lines", { path })) …`.
   */
  stream<T = unknown, M extends IpcStreamMethods<H> = IpcStreamMethods<H>>(
    method: M,
    ...args: IpcCallArgs<H[M & keyof H], IpcStreamOptions>
  ): IpcCallStream<
    IpcStreamItem<H, M, NoInfer<T>>,
    IpcReturnOf<H[M & keyof H]>
  > {
    const [params, options] = args;
    return new PoolStream(
      (m, p, o) => (this as unknown as IpcPool).request(m, p, o),
      method,
      params,
      options,
    );
  }

  /**
   * Figures of the pool: calls queued, in flight, succeeded and failed,
   * restarts, messages and bytes of every child it ran, latency
   * percentiles from `request()` to the answer, and each running child's.
   *
   * @returns A snapshot of the figures.
   *
   * @example
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
   * await pool.request("fib", { n: 20 });
   * const { succeeded, latency, children } = pool.stats();
   * console.log(succeeded, latency.p50, latency.p99, children.map((child) => child.pid));
   * ```
   */
  stats(): IpcPoolStats {
    const restarts = this.#children.restarts;
    return {
      children: this.#children.children.map((child) => ({
        pid: child.process.pid,
        inFlight: child.inFlight,
        channel: child.process.ipc.stats(),
      })),
      queued: this.#queue.length,
      inFlight: this.#inFlight,
      succeeded: this.#succeeded,
      failed: this.#failed,
      restarts,
      ...this.#children.totals(),
      errors: this.#failed + restarts,
      messagesDelivered: this.#plain.delivered,
      messagesDropped: this.#plain.dropped,
      latency: this.#latency.summary(),
    };
  }

  /**
   * Stops taking calls, waits for the queued and running ones to finish
   * (children that exit meanwhile are still replaced), then closes every
   * child's channel so it exits, killing any that has not exited 5 s later.
   *
   * @returns A promise that resolves once every child has exited.
   *
   * @example
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * const pool = new IpcPool({ module: "./worker.ts", size: 2 });
   * const answer = pool.request("fib", { n: 30 });
   * await pool.close(); // waits for the call
   * console.log(await answer);
   * ```
   */
  close(): Promise<void> {
    this.#closing = true;
    this.#closePromise ??= this.#drainAndStop();
    return this.#closePromise;
  }

  /**
   * Closes the pool, as {@linkcode IpcPool.close}; for `await using`.
   *
   * @example
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * {
   *   await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
   *   await pool.request("fib", { n: 20 });
   * } // drained and stopped here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Starts one child with the pool's options. */
  #spawn(): IpcChildProcess {
    const options = this.#options;
    const trace = options.trace;
    let pid = 0;
    const process = spawnWithIpc(Deno.execPath(), {
      args: this.#settings.spawnArgs,
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: options.stdout,
      stderr: options.stderr,
      maxMessageBytes: options.maxMessageBytes,
      sendBufferBytes: options.sendBufferBytes,
      receiveBufferBytes: options.receiveBufferBytes,
      trace: trace === undefined ? undefined : (event) => trace(event, pid),
    });
    pid = process.pid;
    readPlainMessages(process.ipc, pid, options.onMessage, this.#plain);
    return process;
  }

  // Calls ------------------------------------------------------------------

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
    child.inFlight++;
    this.#inFlight++;
    const ipc = child.process.ipc;
    (call.run?.(ipc, options) ?? ipc.request(call.method, call.params, options))
      .then(
        (result) => this.#onAnswer(call, child, result),
        (error) => this.#onCallFailed(call, child, error),
      );
  }

  #onAnswer(call: PoolCall, child: PoolChild, result: unknown): void {
    this.#release(child);
    this.#children.answered(child);
    this.#succeeded++;
    this.#latency.record(performance.now() - call.start);
    call.state = "done";
    call.resolve(result);
    this.#afterCall();
  }

  #onCallFailed(call: PoolCall, child: PoolChild, error: unknown): void {
    if (error instanceof IpcClosedError) {
      // The child's channel closed under the call: report how the child ended.
      child.exited.promise.then((status) => {
        this.#release(child);
        this.#reject(
          call,
          new IpcChildExitedError(call.method, child.process.pid, status, {
            cause: error,
          }),
        );
        this.#afterCall();
      });
      return;
    }
    this.#release(child);
    if (error instanceof IpcRemoteError) {
      this.#children.answered(child);
      this.#latency.record(performance.now() - call.start);
    }
    this.#reject(
      call,
      error instanceof IpcTimeoutError && call.timeout !== undefined
        ? new IpcTimeoutError(call.method, call.timeout, undefined, {
          pid: child.process.pid,
          receiveBufferFull: error.receiveBufferFull,
          cause: error,
        })
        : error,
    );
    this.#afterCall();
  }

  #release(child: PoolChild): void {
    child.inFlight--;
    this.#inFlight--;
  }

  #reject(call: PoolCall, error: unknown): void {
    call.stopWaiting();
    call.state = "done";
    this.#failed++;
    call.reject(error);
  }

  #afterCall(): void {
    this.#pump();
    if (
      this.#drained !== undefined && this.#queue.length === 0 &&
      this.#inFlight === 0
    ) {
      this.#drained.resolve();
    }
  }

  /** Sends queued calls to free children. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const child = this.#children.leastBusy(this.#settings.concurrency);
      if (child === undefined) return;
      const call = this.#queue.shift();
      if (call === undefined) return;
      this.#dispatch(call, child);
    }
  }

  #failQueued(error: unknown): void {
    let call;
    while ((call = this.#queue.shift()) !== undefined) {
      this.#reject(call, error);
    }
    this.#afterCall();
  }

  // Closing ----------------------------------------------------------------

  async #drainAndStop(): Promise<void> {
    if (this.#queue.length > 0 || this.#inFlight > 0) {
      this.#drained = Promise.withResolvers<void>();
      await this.#drained.promise;
    }
    await this.#children.stopAll();
  }
}
