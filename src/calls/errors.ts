/**
 * The errors of calls (`request()`/`handle()`):
 *
 * ```text
 * IpcError
 * ├── IpcRemoteError            the peer's handler threw, or the peer answered with an error
 * │   └── IpcMethodNotFoundError  the peer has no handler for the method
 * ├── IpcTimeoutError           no answer within the call's timeout
 * └── IpcCancelledError         (in a handler's signal) the caller gave up
 * ```
 *
 * @module
 */

import { IpcError, IpcProtocolError } from "../channel/errors.ts";

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
  /** The pid of the child that had the call, for a call made through an `IpcPool`. */
  readonly pid: number | undefined;
  /**
   * `true` when, as the timeout passed, reading from the peer was paused
   * because `receiveBufferBytes` of plain messages lay unread: the answer
   * may have been behind them.
   */
  readonly receiveBufferFull: boolean;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param timeout The timeout in milliseconds.
   * @param message The explanation; by default one saying the call was cancelled in the peer.
   * @param details The child's pid, whether the receive buffer was full, the cause.
   */
  constructor(
    method: string,
    timeout: number,
    message?: string,
    details: IpcTimeoutErrorDetails = {},
  ) {
    const { pid, receiveBufferFull = false, cause } = details;
    super(
      message ??
        `The call "${method}" got no answer within its timeout of ${timeout} ms` +
          (pid === undefined ? "" : ` from the child with pid ${pid}`) +
          `, and was cancelled in the peer. ` +
          (receiveBufferFull
            ? `Reading from the peer was paused meanwhile: receiveBufferBytes of plain messages lay unread, ` +
              `and the answer may be behind them. Read the plain messages (for await, receive()), ` +
              `or set receiveOverflow: "drop".`
            : `Raise the timeout, or make the handler faster.`),
      cause === undefined ? undefined : { cause },
    );
    this.method = method;
    this.timeout = timeout;
    this.pid = pid;
    this.receiveBufferFull = receiveBufferFull;
  }
}

/**
 * What an {@linkcode IpcTimeoutError} knows besides its method and timeout.
 *
 * @example
 * ```ts
 * import { IpcTimeoutError, type IpcTimeoutErrorDetails } from "@tether/ipc";
 *
 * const details: IpcTimeoutErrorDetails = { pid: 4242 };
 * console.log(new IpcTimeoutError("resize", 500, undefined, details).pid); // 4242
 * ```
 */
export interface IpcTimeoutErrorDetails {
  /** The pid of the child that had the call (a pool's call). */
  pid?: number;
  /** Reading was paused behind unread plain messages as the timeout passed. */
  receiveBufferFull?: boolean;
  /** The error this one replaces. */
  cause?: unknown;
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

/** The peer sent more items of a streaming call than its credit allowed. */
export function streamProtocolError(
  method: string,
  what: string,
): IpcProtocolError {
  return new IpcProtocolError(
    `The streaming call "${method}" failed: ${what}. ` +
      `The peer does not follow the stream protocol (see docs/protocol.md); fix the peer.`,
    { method },
  );
}
