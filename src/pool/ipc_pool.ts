/**
 * {@linkcode IpcPool}: Deno children running the same module, each
 * answering calls; calls go to the least busy child, wait in a bounded
 * queue when every child is busy, and a child that exits is replaced. The
 * parts: `supervisor.ts` (the children: their number, replacing and
 * recycling them), `pool_child.ts` (one child), `dispatcher.ts` (the calls),
 * `pool_stream.ts` (`stream()`), `map.ts` (`map()`). Here too: the shape of
 * `stats()`.
 *
 * @module
 */

import type { IpcLatencyStats } from "../calls/stats.ts";
import type { IpcCallStream, IpcStreamOptions } from "../calls/streams.ts";
import type {
  IpcCallArgs,
  IpcCallMethods,
  IpcRequestResult,
  IpcReturnOf,
  IpcStreamItem,
  IpcStreamMethods,
  IpcUntypedHandlers,
} from "../calls/remote.ts";
import type { IpcStreamStats } from "../channel/ipc_json_stream.ts";
import { durationOption, integerOption } from "../internal/check_option.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { Dispatcher } from "./dispatcher.ts";
import { type IpcPoolMapOptions, mapCalls } from "./map.ts";
import {
  checkPoolOptions,
  type IpcPoolCloseOptions,
  type IpcPoolOptions,
  type IpcPoolRequestOptions,
  type PoolSettings,
} from "./options.ts";
import { PoolStream } from "./pool_stream.ts";
import { type PlainMessageCounts, spawnPoolChild } from "./pool_child.ts";
import { Recycler, Supervisor } from "./supervisor.ts";

/**
 * A pool of Deno children that answer calls: spreads CPU-bound work over
 * every core, like Python's `multiprocessing.Pool` or piscina, with each
 * child in its own process with only the permissions it is given.
 *
 * Each child runs `module`, which registers handlers (see
 * `serveParentCalls()`). `pool.request()` sends a call to the least busy
 * child; when every child is busy (`concurrency` calls each) a new child
 * starts if fewer than `maxSize` run, else the call waits in a queue of at
 * most `maxQueue` calls. A child above `minSize` idle for `idleTimeout` ms
 * exits. A child that exits, crashes or is killed rejects the calls it was
 * running with {@linkcode IpcChildExitedError} and is replaced; the pool
 * keeps serving. Children can be recycled after `maxCallsPerChild` calls
 * or past `maxMemoryMiB`, and killed when a call times out
 * (`killOnTimeout`). `close()` lets queued and running calls finish, then
 * stops the children; `close({ force: true })` stops them at once.
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
  #settings: PoolSettings;
  #children: Supervisor;
  #calls: Dispatcher;
  #closePromise: Promise<void> | undefined;
  #forcePromise: Promise<void> | undefined;
  #plain: PlainMessageCounts = { delivered: 0, dropped: 0 };

  /**
   * Starts `minSize` children (`size`, by default one per core).
   *
   * @param options The module, the number of children, their permissions,
   *   the queue bound, recycling and the channel options.
   * @throws {TypeError} When an option has the wrong type, `size` is given
   *   with `minSize`/`maxSize`, or `denoArgs` holds a permission flag.
   * @throws {RangeError} When an option's value is out of range, or
   *   `minSize` is above `maxSize`.
   * @throws {Deno.errors.NotCapable} When this process lacks `--allow-run`
   *   or `--allow-env`.
   */
  constructor(options: IpcPoolOptions) {
    const settings = checkPoolOptions(options);
    this.#settings = settings;
    this.#children = new Supervisor(
      settings,
      () => spawnPoolChild(options, settings, this.#plain),
      {
        started: () => this.#calls.pump(),
        // Fail the waiting calls rather than leave them hanging.
        cannotStart: (error) => this.#calls.failQueued(error),
      },
    );
    this.#calls = new Dispatcher(
      settings,
      this.#children,
      new Recycler(settings, this.#children),
    );
  }

  /** The number of children running now, between `minSize` and `maxSize`. */
  get size(): number {
    return this.#children.children.length;
  }

  /**
   * `true` when a call now would be refused with
   * {@linkcode IpcQueueFullError}: `maxQueue` calls wait and no child is
   * free. Await {@linkcode IpcPool.ready} before the next call.
   */
  get needsDrain(): boolean {
    return this.#calls.full;
  }

  /**
   * Waits until a call would not be refused for a full queue, so a
   * producer can stay under `maxQueue` without catching
   * {@linkcode IpcQueueFullError}. Resolves at once when there is room, and
   * when the pool closes.
   *
   * @example Feed a pool as fast as it takes calls
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * await using pool = new IpcPool({ module: "./worker.ts", size: 2, maxQueue: 100 });
   * const answers = [];
   * for (let n = 0; n < 10_000; n++) {
   *   if (pool.needsDrain) await pool.ready();
   *   answers.push(pool.request("fib", { n: n % 25 }));
   * }
   * await Promise.all(answers);
   * ```
   */
  ready(): Promise<void> {
    return this.#calls.ready();
  }

  /**
   * Calls `method` in the least busy child, or queues the call until a
   * child is free.
   *
   * @typeParam R The type of the result (not checked).
   * @param method The method's name.
   * @param params Its parameters: any JSON value.
   * @param options A `signal` to cancel the call, a `timeout` (time in the
   *   queue included; the pool's `timeout` by default), and `killOnTimeout`.
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
    ...args: IpcCallArgs<H[M & keyof H], IpcPoolRequestOptions>
  ): Promise<IpcRequestResult<H, M, NoInfer<R>>>;
  request(
    method: string,
    params?: unknown,
    options?: IpcPoolRequestOptions,
  ): Promise<unknown> {
    return this.#calls.submit(method, params, options);
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
   * Calls `method` once per input, and yields the results, in input order
   * by default. Inputs (any iterable or async iterable, also endless) are
   * read only as fast as results are consumed: at most `concurrency` read
   * and not yet yielded. Breaking out of the loop stops reading and cancels
   * the calls still running; the first failed call cancels the others and
   * makes the loop throw its error.
   *
   * @typeParam R The type of each result (not checked).
   * @param method The method's name.
   * @param inputs The params of each call.
   * @param options `concurrency`, `ordered`, and the options of each call.
   * @returns The results, as an async iterable.
   *
   * @example Hash lines of a file in a pool, in order
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
   * async function* lines() {
   *   for (let i = 0; ; i++) yield { text: `line ${i}` };
   * }
   * for await (const digest of pool.map<string>("sha256", lines(), { concurrency: 8 })) {
   *   console.log(digest);
   *   if (digest.startsWith("000")) break; // stops reading, cancels the rest
   * }
   * ```
   */
  map<R = unknown>(
    method: string,
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    options: IpcPoolMapOptions = {},
  ): AsyncGenerator<R, void, undefined> {
    const { maxSize, concurrency } = this.#settings;
    const bound = integerOption(
      "map",
      "concurrency",
      options.concurrency,
      maxSize * concurrency * 2,
    );
    return mapCalls<R>(
      this as unknown as IpcPool,
      method,
      inputs,
      bound,
      options,
    );
  }

  /**
   * Figures of the pool: calls queued, in flight, succeeded and failed;
   * children started, restarted, retired by cause; wait-time, run-time and
   * latency percentiles; utilization; messages and bytes of every child it
   * ran; and each running child's.
   *
   * @returns A snapshot of the figures.
   *
   * @example
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
   * await pool.request("fib", { n: 20 });
   * const { succeeded, waitTime, runTime, utilization, children } = pool.stats();
   * console.log(succeeded, waitTime.p99, runTime.p50, utilization, children.map((child) => child.pid));
   * ```
   */
  stats(): IpcPoolStats {
    const calls = this.#calls;
    const { starts, restarts, retirements } = this.#children.counts;
    return {
      children: this.#children.children.map((child) => ({
        pid: child.process.pid,
        inFlight: child.inFlight,
        abandoned: child.abandoned,
        calls: child.calls,
        ...(child.rss === undefined ? {} : { rss: child.rss }),
        channel: child.process.ipc.stats(),
      })),
      size: this.size,
      queued: calls.queued,
      inFlight: calls.inFlight,
      succeeded: calls.succeeded,
      failed: calls.failed,
      starts,
      restarts,
      idleExits: retirements.idle,
      retirements,
      utilization: this.#children.utilization(),
      ...this.#children.totals(),
      errors: calls.failed + restarts,
      messagesDelivered: this.#plain.delivered,
      messagesDropped: this.#plain.dropped,
      latency: calls.latency.summary(),
      waitTime: calls.waitTime.summary(),
      runTime: calls.runTime.summary(),
    };
  }

  /**
   * Stops taking calls, waits for the queued and running ones to finish
   * (children that exit meanwhile are still replaced), then closes every
   * child's channel so it exits, killing any that has not exited 5 s later.
   * With `force`, or once `timeout` ms passed, stops at once instead:
   * queued calls reject with `IpcClosedError`, running ones are cancelled
   * (and reject with it), and each child gets SIGTERM, then SIGKILL 1 s
   * later.
   *
   * @param options `force`, and the `timeout` of the graceful close.
   * @returns A promise that resolves once every child has exited.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When `timeout` is not a positive number.
   *
   * @example
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * const pool = new IpcPool({ module: "./worker.ts", size: 2 });
   * const answer = pool.request("fib", { n: 30 });
   * await pool.close({ timeout: 10_000 }); // waits for the call, 10 s at most
   * console.log(await answer);
   * ```
   */
  close(options: IpcPoolCloseOptions = {}): Promise<void> {
    const timeout = durationOption("close", "timeout", options.timeout);
    if (options.force !== undefined && typeof options.force !== "boolean") {
      throw new TypeError(
        `close option force must be a boolean, got ${typeof options.force}.`,
      );
    }
    if (options.force) return this.#force("close({ force: true }) was called");
    this.#calls.stop(
      "the pool is closed (close() was called). Create a new pool.",
      false,
    );
    this.#closePromise ??= this.#drainAndStop(timeout);
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

  async #drainAndStop(timeout: number | undefined): Promise<void> {
    const drained = this.#calls.drained();
    if (timeout !== undefined && !await settlesWithin(drained, timeout)) {
      return this.#force(
        `the pool was closed, and the close timeout of ${timeout} ms passed first`,
      );
    }
    await drained;
    await this.#children.stopAll();
  }

  #force(why: string): Promise<void> {
    this.#forcePromise ??= (() => {
      this.#calls.stop(why, true);
      return this.#children.stopAll(true);
    })();
    return this.#forcePromise;
  }
}

/**
 * One child of an {@linkcode IpcPool}.
 *
 * @example Find the busiest child
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 4 });
 * const busiest = pool.stats().children.toSorted((a, b) => b.inFlight - a.inFlight)[0];
 * console.log(busiest.pid, busiest.inFlight, busiest.channel.bytesIn);
 * ```
 */
export interface IpcPoolChildStats {
  /** The child's process id. */
  pid: number;
  /**
   * Calls in this child: sent and not answered yet, and those whose caller
   * gave up (a timeout, an abort) while their handler still runs there: its
   * real load, which the pool routes by.
   */
  inFlight: number;
  /**
   * Of `inFlight`, calls whose caller gave up while their handler still runs
   * (it ignores its signal). The child gets no call sent ahead meanwhile.
   */
  abandoned: number;
  /** Calls sent to this child. */
  calls: number;
  /** Its resident memory in bytes, as it last reported (read between calls with `maxMemoryMiB`). */
  rss?: number;
  /** Its channel's figures. */
  channel: IpcStreamStats;
}

/**
 * The figures of an {@linkcode IpcPool}, summed over its children.
 *
 * @example Report the pool's health
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
 * setInterval(() => {
 *   const { queued, inFlight, failed, restarts, latency } = pool.stats();
 *   console.log({ queued, inFlight, failed, restarts, p99: latency.p99 });
 * }, 10_000);
 * ```
 */
export interface IpcPoolStats {
  /** Children running now. */
  children: IpcPoolChildStats[];
  /** Calls waiting for a child. */
  queued: number;
  /** Calls sent to a child and not answered yet. */
  inFlight: number;
  /** Calls that got a result. */
  succeeded: number;
  /** Calls that failed: remote errors, timeouts, aborts, full queue, crashed children. */
  failed: number;
  /** Children running now (`pool.size`). */
  size: number;
  /** Children started, the first ones, replacements and those added to meet demand. */
  starts: number;
  /** Children that exited unexpectedly (crashed, were killed from outside) while the pool was open, and were replaced. */
  restarts: number;
  /** Children above `minSize` that exited after `idleTimeout` ms idle. */
  idleExits: number;
  /**
   * Children the pool retired while open, by cause: `maxCalls`
   * (`maxCallsPerChild`), `memory` (RSS past `maxMemoryMiB`), `timeout`
   * (killed by `killOnTimeout`), `abandoned` (a handler still ran 2 s after
   * its call timed out or was cancelled: it ignores its signal), `idle` (as
   * `idleExits`).
   */
  retirements: Record<
    "maxCalls" | "memory" | "timeout" | "abandoned" | "idle",
    number
  >;
  /**
   * Busy child-time over available child-time since the pool started, 0 to
   * 1: the share of the time children had a call to run.
   */
  utilization: number;
  /** Messages received from every child the pool ran, the exited ones included. */
  messagesIn: number;
  /** Messages sent to every child the pool ran. */
  messagesOut: number;
  /** Bytes received from every child the pool ran. */
  bytesIn: number;
  /** Bytes sent to every child the pool ran (see {@linkcode IpcStreamStats.bytesOut}). */
  bytesOut: number;
  /** Plain messages from the children handed to the `onMessage` option. */
  messagesDelivered: number;
  /** Plain messages from the children dropped because there is no `onMessage`. */
  messagesDropped: number;
  /** Failed calls plus children that exited unexpectedly. */
  errors: number;
  /** Latency from `pool.request()` to the answer, time in the queue included. */
  latency: IpcLatencyStats;
  /** Wait time: from `pool.request()` until the call is sent to a child. */
  waitTime: IpcLatencyStats;
  /** Run time: from sending the call to a child until its answer. */
  runTime: IpcLatencyStats;
}
