/**
 * The shapes of the figures `stats()` returns, on a channel and on a pool.
 *
 * @module
 */

/**
 * Latency of calls, in milliseconds, from a histogram of fixed size (each
 * percentile is exact to within ±1%).
 *
 * @example Read the latency of the calls a stream made
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * const { count, p50, p99 } = caller.stats().calls.latency;
 * console.log(`${count} call(s): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcLatencyStats {
  /** Calls measured. */
  count: number;
  /** Mean latency. */
  mean: number;
  /** Median latency. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Slowest call. */
  max: number;
}

/**
 * Calls on one channel, in both directions.
 *
 * @example Calls made by one end, handled by the other
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * console.log(caller.stats().calls.succeeded, callee.stats().calls.handled); // 1 1
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcCallStats {
  /** Calls this end made that still wait for their answer. */
  inFlight: number;
  /** Calls this end made that got a result. */
  succeeded: number;
  /**
   * Calls this end made that failed: an error from the peer, a timeout, an
   * abort, a value that could not be sent, or the channel closing first.
   */
  failed: number;
  /** Calls from the peer whose handler is running. */
  handling: number;
  /** Calls from the peer answered with a result. */
  handled: number;
  /** Calls from the peer answered with an error (including unknown methods). */
  handlerErrors: number;
  /**
   * Latency of the calls this end made, from `request()` to the answer
   * (result or error; timeouts and aborts are not measured).
   */
  latency: IpcLatencyStats;
}

/**
 * What went through one channel since it was created.
 *
 * @example Messages and bytes both ways
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * const { messagesOut, messagesIn, bytesOut, errors } = caller.stats();
 * console.log(messagesOut, messagesIn, bytesOut, errors); // 1 1 41 0
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcStreamStats {
  /** Messages received, calls and answers included. */
  messagesIn: number;
  /** Messages written to the transport, calls and answers included. */
  messagesOut: number;
  /** Bytes received. */
  bytesIn: number;
  /**
   * Bytes written. JSON text is counted without re-encoding it: exact for
   * ASCII; each character beyond ASCII counts as one (or two, outside the
   * Basic Multilingual Plane), so it is then a lower bound. Exact with the
   * `"advanced"` serialization.
   */
  bytesOut: number;
  /**
   * Failures: calls this end made that failed, calls from the peer answered
   * with an error, and 1 if the channel itself failed (bad input or a broken
   * connection).
   */
  errors: number;
  /** The calls made in each direction. */
  calls: IpcCallStats;
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
  /** Calls sent to this child and not answered yet. */
  inFlight: number;
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
  /** Children that exited while the pool was open and were replaced. */
  restarts: number;
  /** Messages received from every child the pool ran, the exited ones included. */
  messagesIn: number;
  /** Messages sent to every child the pool ran. */
  messagesOut: number;
  /** Bytes received from every child the pool ran. */
  bytesIn: number;
  /** Bytes sent to every child the pool ran (see {@linkcode IpcStreamStats.bytesOut}). */
  bytesOut: number;
  /** Failed calls plus children that exited unexpectedly. */
  errors: number;
  /** Latency from `pool.request()` to the answer, time in the queue included. */
  latency: IpcLatencyStats;
}
