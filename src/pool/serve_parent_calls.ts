/**
 * {@linkcode serveParentCalls}: the child's side of an `IpcPool` (its own
 * methods, {@linkcode POOL_METHODS}, included), or of any parent that calls
 * its child.
 *
 * @module
 */

import type { IpcHandlers } from "../calls/types.ts";
import { CONTROLS, type IpcJsonStream } from "../channel/ipc_json_stream.ts";
import {
  connectParentIpc,
  type ConnectParentIpcOptions,
} from "../process/connect_parent_ipc.ts";

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

/**
 * Answers the parent's calls: opens the channel to the parent and registers
 * one handler per method, all at once, so no call can arrive before its
 * handler (and the pool's own: `tether.memoryUsage`, which answers
 * `Deno.memoryUsage()` for `maxMemoryMiB`, and `tether.poolConcurrency`,
 * which sets the channel's `maxConcurrentCalls` to the pool's
 * `concurrency`: the calls sent ahead wait their turn, and a call holds its
 * place until its handler ends, a stream until its generator ends, even
 * after the call was cancelled). The process then runs until the parent
 * closes the channel (as `IpcPool.close()` does) or exits.
 *
 * Needs no permissions.
 *
 * @param handlers The handler of each method; each gets the call's params
 *   and a context with a `signal`, and may be async.
 * @param options Channel options, as for `connectParentIpc()`.
 * @returns The channel to the parent, for more handlers or plain messages.
 * @throws {IpcChannelNotFoundError} When this process has no parent channel.
 *
 * @example A pool worker (`worker.ts`, runs with no permissions)
 * ```ts ignore
 * import { serveParentCalls } from "@tether/ipc";
 *
 * function fib(n: number): number {
 *   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * }
 *
 * serveParentCalls({
 *   fib: ({ n }: { n: number }) => fib(n),
 *   sha256: async ({ text }: { text: string }) => {
 *     const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
 *     return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
 *   },
 * });
 * ```
 */
export function serveParentCalls(
  handlers: IpcHandlers,
  options?: ConnectParentIpcOptions,
): IpcJsonStream {
  const parent = connectParentIpc(options);
  for (const [method, handler] of Object.entries(handlers)) {
    parent.handle(method, handler);
  }
  if (!Object.hasOwn(handlers, POOL_METHODS.memoryUsage)) {
    parent.handle(POOL_METHODS.memoryUsage, () => Deno.memoryUsage());
  }
  if (!Object.hasOwn(handlers, POOL_METHODS.concurrency)) {
    // The pool's own calls run outside the limit, so none waits behind a call.
    const unlimited = Object.values(POOL_METHODS);
    parent.handle(
      POOL_METHODS.concurrency,
      (limit: unknown) =>
        Number.isSafeInteger(limit) && (limit as number) > 0
          ? parent[CONTROLS]().limitCalls(limit as number, unlimited)
          : null,
    );
  }
  return parent;
}
