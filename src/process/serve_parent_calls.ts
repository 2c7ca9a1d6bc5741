/**
 * {@linkcode serveParentCalls}: the child's side of an `IpcPool`, or of any
 * parent that calls its child.
 *
 * @module
 */

import type { IpcHandlers } from "../calls/types.ts";
import type { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import {
  connectParentIpc,
  type ConnectParentIpcOptions,
} from "./connect_parent_ipc.ts";
import { MEMORY_USAGE_METHOD } from "./memory_usage_method.ts";

/**
 * Answers the parent's calls: opens the channel to the parent and registers
 * one handler per method, all at once, so no call can arrive before its
 * handler (and `tether.memoryUsage`, which answers `Deno.memoryUsage()`
 * for a pool's `maxMemoryMiB`). The process then runs until the parent closes the channel (as
 * `IpcPool.close()` does) or exits.
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
  if (!Object.hasOwn(handlers, MEMORY_USAGE_METHOD)) {
    parent.handle(MEMORY_USAGE_METHOD, () => Deno.memoryUsage());
  }
  return parent;
}
