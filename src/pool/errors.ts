/**
 * The errors of {@linkcode IpcPool}:
 *
 * ```text
 * IpcError
 * └── IpcQueueFullError         maxQueue calls already wait for a child
 * ```
 *
 * A call on a child that exits rejects with `IpcChildExitedError` (see
 * `process/errors.ts`).
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";

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
