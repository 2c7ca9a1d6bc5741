/**
 * Graceful cancel: the parent's {@linkcode sendCancel} sends the child the
 * `$/cancelProcess` notification, and the child's {@linkcode getCancelSignal}
 * aborts with the reason it carries.
 *
 * The abort reason travels as `{ "error": { "name", "message", "stack" } }`
 * when it is an `Error` (a `DOMException` included), else as
 * `{ "reason": value }` when it is JSON, else as its `String()`. The stack
 * is the parent's, without the frames of this library and of the runtime:
 * it shows where the user's code cancelled.
 *
 * @module
 */

import { CANCEL_PROCESS_METHOD } from "../calls/jsonrpc.ts";
import { CONTROLS, type IpcJsonStream } from "../channel/ipc_json_stream.ts";
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

/**
 * Sends the child the cancel notification carrying `reason`.
 *
 * @param ipc The channel to the child.
 * @param reason The abort reason.
 * @returns Resolves once sent; rejects when the channel is closed.
 */
export function sendCancel<In, Out>(
  ipc: IpcJsonStream<In, Out>,
  reason: unknown,
): Promise<void> {
  return ipc.send({
    jsonrpc: "2.0",
    method: CANCEL_PROCESS_METHOD,
    params: reasonToWire(reason),
  } as Out);
}

function reasonToWire(reason: unknown): Record<string, unknown> {
  if (reason instanceof Error) {
    const { name, message, stack } = reason;
    return {
      error: {
        name,
        message,
        stack: `${name}: ${message}${userFrames(stack)}`,
      },
    };
  }
  try {
    if (reason === undefined || JSON.stringify(reason) === undefined) {
      return {};
    }
    return { reason };
  } catch {
    return { reason: String(reason) };
  }
}

/** Where this library's modules are: `src/`. */
const LIBRARY = new URL("../", import.meta.url).href;

/**
 * The frames of `stack` that are the user's: those of this library (which
 * made or passed on the reason) and of the runtime (`AbortController`'s
 * own) are dropped. Each kept frame starts with a newline.
 */
function userFrames(stack: unknown): string {
  if (typeof stack !== "string") return "";
  let frames = "";
  for (const line of stack.split("\n")) {
    if (!/^\s+at /.test(line)) continue;
    if (line.includes(LIBRARY) || /\((ext|node):|at (ext|node):/.test(line)) {
      continue;
    }
    frames += "\n" + line;
  }
  return frames;
}

/**
 * The child's view of the abort reason in the notification's `params`: an
 * `Error` with the same name and message, and the parent's stack (none of
 * the child's frames, which would only show this library receiving it), the
 * JSON value, or (with no reason) `undefined`, which aborts with the default
 * `AbortError`.
 *
 * @param params The notification's `params`.
 * @returns The reason to abort with.
 */
export function cancelReasonFromWire(params: unknown): unknown {
  if (typeof params !== "object" || params === null) return undefined;
  const { error, reason } = params as { error?: unknown; reason?: unknown };
  if (typeof error === "object" && error !== null) {
    const { name, message, stack } = error as Record<string, unknown>;
    const copy = new Error(typeof message === "string" ? message : "");
    if (typeof name === "string") copy.name = name;
    copy.stack = typeof stack === "string"
      ? stack
      : `${copy.name}: ${copy.message}`;
    return copy;
  }
  return reason;
}
