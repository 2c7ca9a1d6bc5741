/**
 * The errors of calls (`request()`/`handle()`) and of {@linkcode IpcPool}.
 *
 * @module
 */

import { IpcError } from "./errors.ts";

/**
 * The error object of a JSON-RPC error response, as received.
 *
 * @example Build the error a peer's answer describes
 * ```ts
 * import { IpcRemoteError, type IpcRemoteErrorDetails } from "@tether/ipc";
 *
 * const details: IpcRemoteErrorDetails = { code: -32000, message: "disk full", name: "OSError" };
 * const error = new IpcRemoteError("save", details);
 * console.log(error.message); // The call "save" failed in the peer with OSError: disk full
 * ```
 */
export interface IpcRemoteErrorDetails {
  /** The JSON-RPC error code. */
  code: number;
  /** The error's message in the peer. */
  message: string;
  /** The error's `name` in the peer, when it sent one. */
  name?: string;
  /** The error's stack in the peer, when it sent one. */
  stack?: string;
  /** The error's `data`, when it had any. */
  data?: unknown;
}

/**
 * A call failed in the peer: its handler threw (or rejected), or the peer
 * answered with a JSON-RPC error. `remoteName`, `remoteMessage`,
 * `remoteStack` and `data` are those of the error in the peer.
 *
 * @example Catch an error thrown by the peer's handler
 * ```ts
 * import { IpcJsonStream, IpcRemoteError } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("divide", ({ a, b }: { a: number; b: number }) => {
 *   if (b === 0) throw Object.assign(new RangeError("b is 0"), { data: { a } });
 *   return a / b;
 * });
 * try {
 *   await caller.request("divide", { a: 1, b: 0 });
 * } catch (error) {
 *   if (!(error instanceof IpcRemoteError)) throw error;
 *   console.log(error.remoteName, error.remoteMessage, error.data); // RangeError b is 0 { a: 1 }
 * }
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcRemoteError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The JSON-RPC error code: -32000 for an error a handler threw, unless it set an integer `code`. */
  readonly code: number;
  /** The error's `name` in the peer (`"Error"` when it sent none). */
  readonly remoteName: string;
  /** The error's message in the peer. */
  readonly remoteMessage: string;
  /** The error's stack in the peer, if it sent one. */
  readonly remoteStack: string | undefined;
  /** The error's `data` in the peer, if any. */
  readonly data: unknown;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param details The error the peer sent.
   * @param message The explanation; by default one naming the method and the peer's error.
   */
  constructor(
    method: string,
    details: IpcRemoteErrorDetails,
    message?: string,
  ) {
    const name = details.name ?? "Error";
    super(
      message ??
        `The call "${method}" failed in the peer with ${name}: ${details.message}` +
          (details.stack === undefined
            ? ""
            : " (the peer's stack is in .remoteStack)"),
    );
    this.method = method;
    this.code = details.code;
    this.remoteName = name;
    this.remoteMessage = details.message;
    this.remoteStack = details.stack;
    this.data = details.data;
  }
}

/**
 * The peer has no handler for the method called (JSON-RPC error -32601).
 *
 * @example
 * ```ts
 * import { IpcJsonStream, IpcMethodNotFoundError } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("known", () => "yes");
 * const error = await caller.request("unknown").catch((error) => error);
 * if (error instanceof IpcMethodNotFoundError) console.log(error.code); // -32601
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcMethodNotFoundError extends IpcRemoteError {
  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param details The error the peer sent.
   */
  constructor(method: string, details: IpcRemoteErrorDetails) {
    super(
      method,
      details,
      `The peer has no handler for "${method}" (JSON-RPC error ${details.code}): ` +
        `register one with handle(${
          JSON.stringify(method)
        }, fn) on the other side before calling it, or check the method's name.`,
    );
  }
}

/**
 * A call got no answer within its `timeout`. The call was cancelled in the
 * peer (its handler's `signal` fired), or, in an {@linkcode IpcPool}, it
 * was still waiting for a child and was never sent.
 *
 * @example
 * ```ts
 * import { IpcJsonStream, IpcTimeoutError } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("slow", (_params, { signal }) =>
 *   new Promise((resolve) => {
 *     const timer = setTimeout(resolve, 10_000);
 *     signal.addEventListener("abort", () => { clearTimeout(timer); resolve(null); });
 *   }));
 * const error = await caller.request("slow", null, { timeout: 50 }).catch((error) => error);
 * if (error instanceof IpcTimeoutError) console.log(error.timeout); // 50
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcTimeoutError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The timeout, in milliseconds. */
  readonly timeout: number;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param timeout The timeout in milliseconds.
   * @param message The explanation; by default one saying the call was cancelled in the peer.
   */
  constructor(method: string, timeout: number, message?: string) {
    super(
      message ??
        `The call "${method}" got no answer within its timeout of ${timeout} ms, and was cancelled in the peer. ` +
          `Raise the timeout, or make the handler faster.`,
    );
    this.method = method;
    this.timeout = timeout;
  }
}

/**
 * The reason a handler's `signal` fires when the caller cancelled the call:
 * its signal was aborted or its timeout passed. The answer will be ignored,
 * so the handler should stop its work.
 *
 * @example Stop work the caller no longer wants
 * ```ts
 * import { IpcCancelledError, IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * const stopped = Promise.withResolvers<unknown>();
 * callee.handle("work", (_params, { signal }) => {
 *   signal.addEventListener("abort", () => stopped.resolve(signal.reason));
 *   return new Promise(() => {});
 * });
 * const controller = new AbortController();
 * const call = caller.request("work", null, { signal: controller.signal });
 * setTimeout(() => controller.abort(), 10);
 * await call.catch(() => {});
 * console.log((await stopped.promise) instanceof IpcCancelledError); // true
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcCancelledError extends IpcError {
  /** The method that was called. */
  readonly method: string;

  /**
   * Creates the error.
   *
   * @param method The method called.
   */
  constructor(method: string) {
    super(
      `The caller cancelled the call "${method}" (its signal was aborted or its timeout passed): ` +
        `stop the work, the answer will be ignored.`,
    );
    this.method = method;
  }
}

/**
 * {@linkcode IpcPool.request} was called while `maxQueue` calls already
 * waited for a child. Nothing was queued: the pool refuses work rather than
 * growing memory.
 *
 * @example Back off when the pool is saturated
 * ```ts ignore
 * import { IpcPool, IpcQueueFullError } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2, maxQueue: 100 });
 * try {
 *   await pool.request("work", {});
 * } catch (error) {
 *   if (error instanceof IpcQueueFullError) console.log(`over ${error.maxQueue} calls wait; try later`);
 * }
 * ```
 */
export class IpcQueueFullError extends IpcError {
  /** The pool's `maxQueue`. */
  readonly maxQueue: number;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param maxQueue The limit.
   */
  constructor(method: string, maxQueue: number) {
    super(
      `Cannot queue the call "${method}": ${maxQueue} calls already wait for a child (maxQueue). ` +
        `Wait for some calls to finish before making more, or raise maxQueue.`,
    );
    this.maxQueue = maxQueue;
  }
}

/**
 * The child running a call of an {@linkcode IpcPool} exited (crashed, was
 * killed, or closed its channel) before answering. The pool started a
 * replacement; the call was not retried, since running it twice may not be
 * safe.
 *
 * @example Retry a call that is safe to run twice
 * ```ts ignore
 * import { IpcChildExitedError, IpcPool } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
 * let answer;
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     answer = await pool.request("hash", { text: "abc" });
 *     break;
 *   } catch (error) {
 *     if (!(error instanceof IpcChildExitedError) || attempt === 3) throw error;
 *     console.warn(`child ${error.pid} exited with code ${error.code}; retrying`);
 *   }
 * }
 * ```
 */
export class IpcChildExitedError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The child's process id. */
  readonly pid: number;
  /** Its exit code: 128 + the signal number when a signal ended it. */
  readonly code: number;
  /** The signal that ended it, or `null`. */
  readonly signal: Deno.Signal | null;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param pid The child's process id.
   * @param status How the child ended.
   * @param options The underlying `cause`, if any.
   */
  constructor(
    method: string,
    pid: number,
    status: { code: number; signal: Deno.Signal | null },
    options?: ErrorOptions,
  ) {
    const how = status.signal === null
      ? `exited with code ${status.code}`
      : `was killed by ${status.signal} (code ${status.code})`;
    super(
      `Child process ${pid} ${how} before answering the call "${method}". ` +
        `The pool replaced it; the call was not retried: retry it if it is safe to run twice.`,
      options,
    );
    this.method = method;
    this.pid = pid;
    this.code = status.code;
    this.signal = status.signal;
  }
}
