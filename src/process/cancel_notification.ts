/**
 * The `$/cancelProcess` notification of graceful cancel: the parent's
 * {@linkcode sendCancel}, and {@linkcode cancelReasonFromWire} for the child.
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
import type { IpcJsonStream } from "../channel/ipc_json_stream.ts";

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
