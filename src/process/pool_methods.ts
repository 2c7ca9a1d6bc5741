/**
 * {@linkcode POOL_METHODS}: the methods an `IpcPool` calls in its children
 * besides the user's, answered by `serveParentCalls()`.
 *
 * @module
 */

/** The methods a pool calls in each child for itself. */
export const POOL_METHODS = {
  /**
   * Between calls, to read the child's memory (`maxMemoryMiB`): answered
   * with `Deno.memoryUsage()`, which needs no permission.
   */
  memoryUsage: "tether.memoryUsage",
  /**
   * First thing after the child starts, with the pool's `concurrency`: the
   * child then runs at most that many calls at once, and the calls the pool
   * sends ahead (`prefetch`) wait in the child for their turn.
   */
  concurrency: "tether.poolConcurrency",
} as const;
