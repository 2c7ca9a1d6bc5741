/**
 * The errors of {@linkcode IpcPool}:
 *
 * ```text
 * IpcError
 * ├── IpcChildExitedError       a child exited before answering a call
 * └── IpcQueueFullError         maxQueue calls already wait for a child
 * ```
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";
import { howItEnded, IpcChildEndedError } from "../process/errors.ts";

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
   * Why the pool knows it ended, when it does: e.g. it ran out of memory
   * (`maxMemoryMiB`), or was killed because a call timed out
   * (`killOnTimeout`).
   */
  readonly reason: string | undefined;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param pid The child's process id.
   * @param status How the child ended.
   * @param options The underlying `cause`, if any, and the `reason` it ended, if known.
   */
  constructor(
    method: string,
    pid: number,
    status: { code: number; signal: Deno.Signal | null },
    options?: ErrorOptions & { reason?: string },
  ) {
    const reason = options?.reason;
    super(
      `Child process ${pid} ${
        howItEnded(status)
      } before answering the call "${method}"${
        reason === undefined ? "" : `: ${reason}`
      }. ` +
        (stderrHidden(options?.cause)
          ? `Its stderr is discarded (stderr: "null"): pass stderr: "inherit" to see why. `
          : "") +
        `The pool replaced it; the call was not retried: retry it if it is safe to run twice.`,
      options,
    );
    this.method = method;
    this.pid = pid;
    this.code = status.code;
    this.signal = status.signal;
    this.reason = reason;
  }
}

/** Whether the chain of causes holds a crash whose stderr was discarded. */
function stderrHidden(cause: unknown): boolean {
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (cause instanceof IpcChildEndedError) {
      return cause.stderrHidden && cause.signal === null && cause.code !== 0;
    }
    cause = cause.cause;
  }
  return false;
}
