/**
 * {@linkcode getCancelSignal}: the child's side of graceful cancel.
 *
 * @module
 */

import { CONTROLS } from "../channel/ipc_json_stream.ts";
import { cancelReasonFromWire } from "./cancel_notification.ts";
import { connectParentIpc } from "./connect_parent_ipc.ts";

let cancel: AbortController | undefined;

/**
 * In a child started by `spawnWithIpc(command, { signal, gracefulCancel:
 * true })`: an `AbortSignal` that aborts when the parent cancels, with the
 * parent's abort reason (an `Error` keeps its name and message, and its
 * `stack` is the parent's: where the parent's code cancelled, not the
 * library's frames; a JSON value arrives as is). The child should then clean up and exit: after the
 * parent's `killTimeout` it gets `SIGTERM`, then `SIGKILL`.
 *
 * Opens the parent channel (`connectParentIpc()`), and needs no
 * permissions. Every call returns the same signal. Call it at start-up: a
 * cancel that arrives while nothing on the channel listens for calls (no
 * `handle()`, no `request()`, no `getCancelSignal()` yet) is delivered to
 * the message iterator as a plain `$/cancelProcess` message. Listening does
 * not keep the process alive.
 *
 * @returns The signal; it never aborts unless the parent cancels.
 * @throws {IpcChannelNotFoundError} When this process has no parent channel.
 *
 * @example A child that stops cleanly when its parent cancels
 * ```ts ignore
 * import { getCancelSignal } from "@tether/ipc";
 *
 * const signal = getCancelSignal();
 * signal.addEventListener("abort", () => {
 *   console.error("cancelled:", signal.reason);
 *   Deno.exit(0);
 * });
 * ```
 */
export function getCancelSignal(): AbortSignal {
  if (cancel === undefined) {
    const controller = new AbortController();
    connectParentIpc()[CONTROLS]().onCancelProcess(
      (params) => controller.abort(cancelReasonFromWire(params)),
    );
    cancel = controller;
  }
  return cancel.signal;
}
