/**
 * {@linkcode IpcPool}: a fixed number of Deno children running the same
 * module, each answering calls; calls go to the least busy child, wait in a
 * bounded queue when every child is busy, and a child that exits is
 * replaced.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import {
  IpcChildExitedError,
  IpcQueueFullError,
  IpcRemoteError,
  IpcTimeoutError,
} from "./call_errors.ts";
import { invalidTimeout, type IpcRequestOptions } from "./calls.ts";
import { IpcClosedError } from "./errors.ts";
import { LatencyHistogram } from "./latency.ts";
import { type IpcPermissions, permissionFlags } from "./permission_flags.ts";
import {
  type IpcChildProcess,
  type IpcChildStatus,
  spawnWithIpc,
} from "./spawn.ts";
import type { IpcPoolStats, IpcStreamStats } from "./stats.ts";
import type { IpcTraceEvent } from "./trace.ts";

/**
 * Default of {@linkcode IpcPoolOptions.maxQueue}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_QUEUE } from "@tether/ipc";
 *
 * console.log(DEFAULT_MAX_QUEUE); // 1000
 * ```
 */
export const DEFAULT_MAX_QUEUE = 1000;

/**
 * After a child's channel closes, the child has this long to exit by itself
 * (so its own exit code is reported) before it is killed.
 */
const EXIT_GRACE_MS = 1000;
/** On `close()`, a child has this long to exit after its channel closes. */
const STOP_GRACE_MS = 5000;
/** A child that exits this soon after starting, before answering a call, counts as failing to start. */
const EARLY_EXIT_MS = 2000;
/** Replacing children that keep failing to start waits 100 ms, 200 ms, … up to this. */
const MAX_RESTART_DELAY_MS = 5000;

/**
 * Options of an {@linkcode IpcPool}.
 *
 * @example Four children that may read one directory and reach one host
 * ```ts ignore
 * import { IpcPool, type IpcPoolOptions } from "@tether/ipc";
 *
 * const options: IpcPoolOptions = {
 *   module: new URL("./worker.ts", import.meta.url),
 *   size: 4,
 *   permissions: { read: ["./images"], net: ["api.example.com:443"] },
 *   maxQueue: 200,
 *   timeout: 30_000,
 * };
 * await using pool = new IpcPool(options);
 * ```
 */
export interface IpcPoolOptions {
  /**
   * The module each child runs with `deno run`: a path (relative to `cwd`)
   * or a URL. It registers handlers, e.g. with `serveParentCalls()`.
   */
  module: string | URL;
  /** Number of children. @default {navigator.hardwareConcurrency} */
  size?: number;
  /**
   * What each child may do, turned into explicit `--allow-*` flags. None by
   * default: the channel needs no permission.
   */
  permissions?: IpcPermissions;
  /**
   * Most calls that may wait for a child; past it `request()` rejects at
   * once with {@linkcode IpcQueueFullError}. `Infinity` lets the queue grow.
   *
   * @default {1000}
   */
  maxQueue?: number;
  /**
   * Calls one child runs at once. 1 suits CPU-bound work; raise it for
   * handlers that mostly wait (I/O).
   *
   * @default {1}
   */
  concurrency?: number;
  /** Default `timeout` of every call, in milliseconds, time in the queue included. */
  timeout?: number;
  /** Arguments of the module: each child's `Deno.args`. */
  args?: string[];
  /**
   * Other `deno run` options, placed before the module (e.g.
   * `["--v8-flags=--max-old-space-size=512"]`). Permission flags are
   * refused here: use `permissions`.
   */
  denoArgs?: string[];
  /** Working directory of the children. @default {the parent's} */
  cwd?: string | URL;
  /** Environment variables added to the children's (they need `env` permission to read them). */
  env?: Record<string, string>;
  /** The children's standard output: the parent's, or none. @default {"inherit"} */
  stdout?: "inherit" | "null";
  /** The children's standard error: the parent's, or none. @default {"inherit"} */
  stderr?: "inherit" | "null";
  /** `maxMessageBytes` of each channel, as for `IpcJsonStream`. */
  maxMessageBytes?: number;
  /** `sendBufferBytes` of each channel. */
  sendBufferBytes?: number;
  /** `receiveBufferBytes` of each channel. */
  receiveBufferBytes?: number;
  /** Called with every message to and from a child, and the child's pid. */
  trace?: (event: IpcTraceEvent, pid: number) => void;
}

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
export class IpcPool implements AsyncDisposable {
  #spawnArgs: string[];
  #options: IpcPoolOptions;
  #size: number;
  #maxQueue: number;
  #concurrency: number;
  #timeout: number | undefined;

  /** Children that take calls. */
  #children: PoolChild[] = [];
  /** Every child process not known to have exited, to stop them all on close. */
  #processes = new Set<PoolChild>();
  #next = 0;

  #queue: PoolCall[] = [];
  #queueHead = 0;
  #queued = 0;
  #inFlight = 0;

  #closing = false;
  #stopping = false;
  #drained: PromiseWithResolvers<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #restartTimers = new Set<ReturnType<typeof setTimeout>>();
  #earlyExits = 0;

  #succeeded = 0;
  #failed = 0;
  #restarts = 0;
  #unexpectedExits = 0;
  #latency = new LatencyHistogram();
  #retired: Totals = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
  };

  /**
   * Starts the children.
   *
   * @param options The module, the number of children, their permissions,
   *   the queue bound and the channel options.
   * @throws {TypeError} When an option is invalid.
   * @throws {Deno.errors.NotCapable} When this process lacks `--allow-run`
   *   or `--allow-env`.
   */
  constructor(options: IpcPoolOptions) {
    this.#options = options;
    this.#size = integerOption(
      "size",
      options.size,
      navigator.hardwareConcurrency,
      1,
    );
    this.#concurrency = integerOption("concurrency", options.concurrency, 1, 1);
    this.#maxQueue = options.maxQueue === Infinity
      ? Infinity
      : integerOption("maxQueue", options.maxQueue, DEFAULT_MAX_QUEUE, 0);
    if (
      options.timeout !== undefined &&
      !(options.timeout > 0)
    ) {
      throw new RangeError(
        `IpcPool option timeout must be a positive number of milliseconds, got ${options.timeout}.`,
      );
    }
    this.#timeout = options.timeout;
    for (const name of ["stdout", "stderr"] as const) {
      const value = options[name];
      // Nobody would read a piped stream: a child writing to it would block.
      if (value !== undefined && value !== "inherit" && value !== "null") {
        throw new TypeError(
          `IpcPool option ${name} must be "inherit" or "null", got ${
            JSON.stringify(value)
          }.`,
        );
      }
    }
    for (const arg of options.denoArgs ?? []) {
      if (/^(-[APRWINES]|--allow-|--permission-set)/.test(arg)) {
        throw new TypeError(
          `IpcPool option denoArgs holds ${
            JSON.stringify(arg)
          }: grant permissions with the permissions option, which grants only what it names.`,
        );
      }
    }
    this.#spawnArgs = [
      "run",
      "--no-prompt",
      ...permissionFlags(options.permissions),
      ...(options.denoArgs ?? []),
      modulePath(options.module),
      ...(options.args ?? []),
    ];
    try {
      for (let i = 0; i < this.#size; i++) this.#children.push(this.#spawn());
    } catch (error) {
      // Do not leave the children already started running without a pool.
      for (const child of this.#children) kill(child);
      throw error;
    }
  }

  /** The number of children the pool keeps running. */
  get size(): number {
    return this.#size;
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
  request<R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<R> {
    if (this.#closing) {
      this.#failed++;
      return Promise.reject(
        new IpcClosedError(
          `Cannot call "${method}": the pool is closed (close() was called). Create a new pool.`,
        ),
      );
    }
    const signal = options?.signal;
    const timeout = options?.timeout ?? this.#timeout;
    const badTimeout = invalidTimeout(timeout);
    if (badTimeout !== undefined) return Promise.reject(badTimeout);
    if (signal?.aborted) {
      this.#failed++;
      return Promise.reject(signal.reason);
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const call = new PoolCall(
      method,
      params,
      signal,
      timeout === Infinity ? undefined : timeout,
      resolve as (value: unknown) => void,
      reject,
    );
    const child = this.#queued === 0 ? this.#leastBusy() : undefined;
    if (child !== undefined) {
      this.#dispatch(call, child);
    } else if (this.#queued >= this.#maxQueue) {
      this.#failed++;
      return Promise.reject(new IpcQueueFullError(method, this.#maxQueue));
    } else {
      this.#enqueue(call);
    }
    return promise;
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
    const totals = { ...this.#retired };
    const children = this.#children.map((child) => {
      const channel = child.process.ipc.stats();
      addTotals(totals, channel);
      return { pid: child.process.pid, inFlight: child.inFlight, channel };
    });
    for (const child of this.#processes) {
      if (!this.#children.includes(child)) {
        addTotals(totals, child.process.ipc.stats());
      }
    }
    return {
      children,
      queued: this.#queued,
      inFlight: this.#inFlight,
      succeeded: this.#succeeded,
      failed: this.#failed,
      restarts: this.#restarts,
      ...totals,
      errors: this.#failed + this.#unexpectedExits,
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

  // Children ---------------------------------------------------------------

  #spawn(): PoolChild {
    const trace = this.#options.trace;
    let pid = 0;
    const options = this.#options;
    const process = spawnWithIpc(Deno.execPath(), {
      args: this.#spawnArgs,
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
    const child = new PoolChild(process);
    this.#processes.add(child);
    process.ipc.closed.then(() => this.#onChannelClosed(child));
    process.status.then((status) => this.#onExit(child, status));
    // Once both are over, its channel's figures are final.
    Promise.all([process.status, process.ipc.closed]).then(() => {
      this.#processes.delete(child);
      addTotals(this.#retired, process.ipc.stats());
    });
    return child;
  }

  /** The child's channel closed: it exited, or broke its channel and is useless. */
  #onChannelClosed(child: PoolChild): void {
    if (this.#stopping) return;
    this.#retire(child);
    if (child.exitStatus === undefined) {
      const timer = setTimeout(() => {
        kill(child);
      }, EXIT_GRACE_MS);
      child.process.status.then(() => clearTimeout(timer));
    }
  }

  #onExit(child: PoolChild, status: IpcChildStatus): void {
    child.exitStatus = status;
    child.exited.resolve(status);
    if (!this.#stopping) this.#retire(child);
  }

  /** Takes an exited or broken child out of service and starts its replacement. */
  #retire(child: PoolChild): void {
    const index = this.#children.indexOf(child);
    if (index === -1) return;
    this.#children.splice(index, 1);
    this.#unexpectedExits++;
    this.#restarts++;
    const early = child.completed === 0 &&
      performance.now() - child.startedAt < EARLY_EXIT_MS;
    this.#earlyExits = early ? this.#earlyExits + 1 : 0;
    if (this.#earlyExits === 0) {
      this.#replace();
    } else {
      const delay = Math.min(
        100 * 2 ** (this.#earlyExits - 1),
        MAX_RESTART_DELAY_MS,
      );
      const timer = setTimeout(() => {
        this.#restartTimers.delete(timer);
        this.#replace();
      }, delay);
      this.#restartTimers.add(timer);
    }
  }

  #replace(): void {
    if (this.#stopping) return;
    try {
      this.#children.push(this.#spawn());
    } catch (error) {
      // Nothing could start: fail the waiting calls rather than leave them hanging.
      this.#earlyExits++;
      if (this.#children.length === 0) this.#failQueued(error);
      const timer = setTimeout(() => {
        this.#restartTimers.delete(timer);
        this.#replace();
      }, MAX_RESTART_DELAY_MS);
      this.#restartTimers.add(timer);
      return;
    }
    this.#pump();
  }

  #leastBusy(): PoolChild | undefined {
    const children = this.#children;
    const count = children.length;
    let best: PoolChild | undefined;
    // Start where the last search stopped, so ties are spread round-robin.
    for (let i = 0; i < count; i++) {
      const child = children[(this.#next + i) % count];
      if (
        child.inFlight < this.#concurrency &&
        (best === undefined || child.inFlight < best.inFlight)
      ) {
        best = child;
        if (child.inFlight === 0) break;
      }
    }
    if (best !== undefined) this.#next = (children.indexOf(best) + 1) % count;
    return best;
  }

  // Calls ------------------------------------------------------------------

  #dispatch(call: PoolCall, child: PoolChild): void {
    call.stopWaiting();
    let options: IpcRequestOptions | undefined;
    if (call.deadline !== undefined) {
      const remaining = call.deadline - performance.now();
      if (remaining <= 0) {
        this.#reject(call, this.#queueTimeout(call));
        return;
      }
      options = { signal: call.signal, timeout: remaining };
    } else if (call.signal !== undefined) {
      options = { signal: call.signal };
    }
    call.state = RUNNING;
    child.inFlight++;
    this.#inFlight++;
    child.process.ipc.request(call.method, call.params, options).then(
      (result) => this.#onAnswer(call, child, result),
      (error) => this.#onCallFailed(call, child, error),
    );
  }

  #onAnswer(call: PoolCall, child: PoolChild, result: unknown): void {
    this.#release(child);
    child.completed++;
    this.#earlyExits = 0;
    this.#succeeded++;
    this.#latency.record(performance.now() - call.start);
    call.state = DONE;
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
      child.completed++;
      this.#latency.record(performance.now() - call.start);
    }
    this.#reject(
      call,
      error instanceof IpcTimeoutError && call.timeout !== undefined
        ? new IpcTimeoutError(call.method, call.timeout)
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
    call.state = DONE;
    this.#failed++;
    call.reject(error);
  }

  #afterCall(): void {
    this.#pump();
    if (
      this.#drained !== undefined && this.#queued === 0 &&
      this.#inFlight === 0
    ) {
      this.#drained.resolve();
    }
  }

  /** Sends queued calls to free children. */
  #pump(): void {
    while (this.#queued > 0) {
      const child = this.#leastBusy();
      if (child === undefined) return;
      const call = this.#dequeue();
      if (call === undefined) return;
      this.#dispatch(call, child);
    }
  }

  #enqueue(call: PoolCall): void {
    this.#queue.push(call);
    this.#queued++;
    if (call.timeout !== undefined) {
      call.timer = setTimeout(
        () => this.#unqueue(call, this.#queueTimeout(call)),
        call.timeout,
      );
    }
    const signal = call.signal;
    if (signal !== undefined) {
      call.onAbort = () => this.#unqueue(call, signal.reason);
      signal.addEventListener("abort", call.onAbort, { once: true });
    }
  }

  #dequeue(): PoolCall | undefined {
    const queue = this.#queue;
    while (this.#queueHead < queue.length) {
      const call = queue[this.#queueHead];
      queue[this.#queueHead++] = undefined as unknown as PoolCall;
      if (this.#queueHead === queue.length) {
        queue.length = 0;
        this.#queueHead = 0;
      } else if (this.#queueHead >= 1024) {
        queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      if (call.state === QUEUED) {
        this.#queued--;
        return call;
      }
    }
    return undefined;
  }

  /** A queued call timed out or was aborted: it leaves the queue (lazily) and rejects. */
  #unqueue(call: PoolCall, reason: unknown): void {
    if (call.state !== QUEUED) return;
    this.#queued--;
    this.#reject(call, reason);
    this.#afterCall();
  }

  #queueTimeout(call: PoolCall): IpcTimeoutError {
    return new IpcTimeoutError(
      call.method,
      call.timeout ?? 0,
      `The call "${call.method}" waited for a free child longer than its timeout of ${call.timeout} ms, ` +
        `and was never sent. Raise the timeout, add children (size), or send fewer calls at once.`,
    );
  }

  #failQueued(error: unknown): void {
    let call;
    while ((call = this.#dequeue()) !== undefined) this.#reject(call, error);
    this.#afterCall();
  }

  // Closing ----------------------------------------------------------------

  async #drainAndStop(): Promise<void> {
    if (this.#queued > 0 || this.#inFlight > 0) {
      this.#drained = Promise.withResolvers<void>();
      await this.#drained.promise;
    }
    this.#stopping = true;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    this.#children = [];
    await Promise.all([...this.#processes].map((child) => stop(child)));
  }
}

/** Closes a child's channel, so its handlers stop keeping it alive, and waits for it to exit. */
async function stop(child: PoolChild): Promise<void> {
  await child.process.ipc.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([child.exited.promise, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    kill(child);
    await child.exited.promise;
  }
}

/** Kills a child with SIGKILL unless it has exited. */
function kill(child: PoolChild): void {
  if (child.exitStatus !== undefined) return;
  try {
    child.process.kill("SIGKILL");
  } catch {
    // It exited meanwhile: its status is on the way.
  }
}

const QUEUED = 0;
const RUNNING = 1;
const DONE = 2;

/** One child and the calls it runs. */
class PoolChild {
  readonly process: IpcChildProcess;
  readonly startedAt = performance.now();
  readonly exited = Promise.withResolvers<IpcChildStatus>();
  exitStatus: IpcChildStatus | undefined;
  inFlight = 0;
  completed = 0;

  constructor(process: IpcChildProcess) {
    this.process = process;
  }
}

/** One call of `pool.request()`. */
class PoolCall {
  readonly method: string;
  readonly params: unknown;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly deadline: number | undefined;
  readonly start = performance.now();
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  state = QUEUED;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    method: string,
    params: unknown,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ) {
    this.method = method;
    this.params = params;
    this.signal = signal;
    this.timeout = timeout;
    this.deadline = timeout === undefined ? undefined : this.start + timeout;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Stops the queue's timer and abort listener, if any. */
  stopWaiting(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.onAbort);
      this.onAbort = undefined;
    }
  }
}

interface Totals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

function addTotals(totals: Totals, stats: IpcStreamStats): void {
  totals.messagesIn += stats.messagesIn;
  totals.messagesOut += stats.messagesOut;
  totals.bytesIn += stats.bytesIn;
  totals.bytesOut += stats.bytesOut;
}

function modulePath(module: string | URL): string {
  if (module instanceof URL) {
    return module.protocol === "file:" ? fileURLToPath(module) : module.href;
  }
  if (typeof module !== "string" || module === "") {
    throw new TypeError(
      "IpcPool option module must be the path or URL of the module the children run.",
    );
  }
  return module;
}

function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TypeError(
      `IpcPool option ${name} must be an integer of at least ${min}, got ${value}.`,
    );
  }
  return value;
}
