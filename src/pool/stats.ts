/**
 * The shapes of a pool's figures, `IpcPool.stats()`.
 *
 * @module
 */

import type { IpcLatencyStats } from "../calls/stats.ts";
import type { IpcStreamStats } from "../channel/ipc_json_stream.ts";

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

/** Messages and bytes summed over channels. */
export interface StreamTotals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** Adds a channel's messages and bytes to `totals`. */
export function addTotals(
  totals: StreamTotals,
  stats: IpcStreamStats,
): void {
  totals.messagesIn += stats.messagesIn;
  totals.messagesOut += stats.messagesOut;
  totals.bytesIn += stats.bytesIn;
  totals.bytesOut += stats.bytesOut;
}
