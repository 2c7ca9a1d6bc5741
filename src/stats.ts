/**
 * The shapes of the figures `stats()` returns, on a channel and on a pool.
 *
 * @module
 */

/**
 * Latency of calls, in milliseconds, from a histogram of fixed size (each
 * percentile is exact to within ±1%).
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

/** Calls on one channel, in both directions. */
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

/** What went through one channel since it was created. */
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

/** One child of an {@linkcode IpcPool}. */
export interface IpcPoolChildStats {
  /** The child's process id. */
  pid: number;
  /** Calls sent to this child and not answered yet. */
  inFlight: number;
  /** Its channel's figures. */
  channel: IpcStreamStats;
}

/** The figures of an {@linkcode IpcPool}, summed over its children. */
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
