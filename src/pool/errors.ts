/**
 * The errors of {@linkcode IpcPool}:
 *
 * ```text
 * IpcError
 * └── IpcQueueFullError         maxQueue calls already wait for a child
 * ```
 *
 * A child that exits before answering a call rejects it with the process
 * layer's `IpcChildExitedError` (`method` set), built here.
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";
import { howItEnded, IpcChildExitedError } from "../process/errors.ts";

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

/** The child of a pool running the call `method` ended before answering. */
export function poolChildExitedError(
  kind: "process" | "worker",
  method: string,
  pid: number,
  status: { code: number; signal: Deno.Signal | null },
  options?: ErrorOptions & { reason?: string },
): IpcChildExitedError {
  const reason = options?.reason;
  const hidden = stderrHidden(options?.cause);
  return new IpcChildExitedError(
    `Child process ${pid} ${
      howItEnded(status)
    } before answering the call "${method}"${
      reason === undefined ? "" : `: ${reason}`
    }. ` +
      (hidden
        ? `Its stderr is discarded (stderr: "null"): pass stderr: "inherit" to see why. `
        : "") +
      `The pool replaced it; the call was not retried: retry it if it is safe to run twice.`,
    { kind, pid, ...status, method, reason, stderrHidden: hidden },
    options,
  );
}

/** Whether the chain of causes holds a crash whose stderr was discarded. */
function stderrHidden(cause: unknown): boolean {
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (cause instanceof IpcChildExitedError) {
      return cause.stderrHidden && cause.signal === null && cause.code !== 0;
    }
    cause = cause.cause;
  }
  return false;
}
