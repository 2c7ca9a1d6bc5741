/**
 * {@linkcode PoolCall}: one call of `IpcPool.request()`, from the queue to
 * its answer.
 *
 * @module
 */

import type { PoolChild } from "./pool_child.ts";
import type { PoolRun } from "./pool_stream.ts";

/** Where a call is: waiting for a child, sent to one, or settled. */
export type PoolCallState = "queued" | "running" | "done";

/** One call of `pool.request()`. */
export class PoolCall {
  readonly method: string;
  readonly params: unknown;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly deadline: number | undefined;
  readonly start = performance.now();
  /** `performance.now()` when it was sent to a child. */
  sentAt = 0;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  /** Kill the child when the call times out while it runs. */
  readonly killOnTimeout: boolean;
  state: PoolCallState = "queued";
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** How to run it on the child, when not as a plain request (`pool_stream.ts`). */
  run: PoolRun | undefined = undefined;
  /**
   * The child it was sent to, while it is there: until its answer, or, once
   * its caller gave up, until the child says its handler ended.
   */
  child: PoolChild | undefined = undefined;
  /** It has a place in its child (by the pool's count), rather than waiting for one there. */
  started = false;
  /** Why its caller gave up while it was in its child ("timed out", "was cancelled"), if it did. */
  abandoned: string | undefined = undefined;
  /** `performance.now()` when its caller gave up. */
  abandonedAt = 0;
  /** Its handler still ran a grace period after its caller gave up. */
  overdue = false;
  /** Ends that grace period. */
  graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  /**
   * No call may be sent ahead (prefetch) to its child while it runs: it may
   * kill the child (`killOnTimeout`), or occupy it long (a stream).
   */
  get noneAhead(): boolean {
    return this.killOnTimeout || this.run !== undefined;
  }

  constructor(
    method: string,
    params: unknown,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    killOnTimeout: boolean,
  ) {
    this.method = method;
    this.params = params;
    this.signal = signal;
    this.timeout = timeout;
    this.deadline = timeout === undefined ? undefined : this.start + timeout;
    this.resolve = resolve;
    this.reject = reject;
    this.killOnTimeout = killOnTimeout;
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
