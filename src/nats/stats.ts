/**
 * The shapes of the figures of calls over NATS.
 *
 * @module
 */

import type { IpcLatencyStats } from "../calls/stats.ts";

/**
 * Calls a caller made over NATS.
 *
 * @example
 * ```ts ignore
 * import { connectNatsCalls } from "@tether/ipc/nats";
 *
 * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
 * await calls.request("fib", { n: 20 });
 * const { succeeded, latency } = calls.stats();
 * console.log(succeeded, latency.p50);
 * ```
 */
export interface IpcNatsCallerStats {
  /** Calls sent that still wait for their answer. */
  inFlight: number;
  /** Calls that got a result. */
  succeeded: number;
  /** Calls that failed, for any reason (including the three below). */
  failed: number;
  /** Calls no worker served (`IpcNoRespondersError`). */
  noResponders: number;
  /** Calls that got no answer within their timeout (`IpcTimeoutError`). */
  timedOut: number;
  /** Calls refused before sending, for their size (`IpcMessageTooLargeError`). */
  tooLarge: number;
  /** Latency from `request()` to the answer (result or error). */
  latency: IpcLatencyStats;
}

/**
 * Calls a worker took from NATS.
 *
 * @example
 * ```ts ignore
 * import { serveNatsCalls } from "@tether/ipc/nats";
 *
 * await using worker = await serveNatsCalls({ ping: () => "pong" }, { service: "demo" });
 * const { running, waiting, handled, handlerErrors } = worker.stats();
 * console.log(running, waiting, handled, handlerErrors);
 * ```
 */
export interface IpcNatsServiceStats {
  /** Calls whose handler runs now (at most `concurrency`). */
  running: number;
  /** Calls received that wait for one of the `concurrency` slots. */
  waiting: number;
  /** Calls answered with a result. */
  handled: number;
  /** Calls answered with an error (the handler threw, or the answer could not be sent). */
  handlerErrors: number;
  /** Calls cancelled by their caller (their handler's `signal` fired). */
  cancelled: number;
}
