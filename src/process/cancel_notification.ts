/**
 * The `$/cancelProcess` notification of graceful cancel: the parent's
 * {@linkcode sendCancel}, and {@linkcode cancelReasonFromWire} for the child.
 *
 * The abort reason travels as `{ "error": { "name", "message" } }` when it
 * is an `Error` (a `DOMException` included), else as `{ "reason": value }`
 * when it is JSON, else as its `String()`.
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
    return { error: { name: reason.name, message: reason.message } };
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

/**
 * The child's view of the abort reason in the notification's `params`: an
 * `Error` with the same name and message, the JSON value, or (with no
 * reason) `undefined`, which aborts with the default `AbortError`.
 *
 * @param params The notification's `params`.
 * @returns The reason to abort with.
 */
export function cancelReasonFromWire(params: unknown): unknown {
  if (typeof params !== "object" || params === null) return undefined;
  const { error, reason } = params as { error?: unknown; reason?: unknown };
  if (typeof error === "object" && error !== null) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    const copy = new Error(typeof message === "string" ? message : "");
    if (typeof name === "string") copy.name = name;
    return copy;
  }
  return reason;
}
