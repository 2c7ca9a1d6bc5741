/**
 * The notifications of streaming calls and progress: their method names and
 * recognising them. They are JSON-RPC 2.0 notifications with `$/` method
 * names, so a peer that does not stream never handles them.
 *
 * @module
 */

import type { CallId } from "./jsonrpc.ts";

/** Caller → callee, just before a request: "the call with this id streams; you may send `credit` items". */
export const STREAM_METHOD = "$/stream";
/** Callee → caller: the next items of a streaming call, in order. */
export const ITEMS_METHOD = "$/stream/items";
/** Caller → callee: `credit` more items may be sent. */
export const CREDIT_METHOD = "$/stream/credit";
/** Callee → caller: a progress report of a call. */
export const PROGRESS_METHOD = "$/progress";

/** What {@linkcode classifyStream} found. */
export type StreamMessage =
  | { kind: "stream"; id: CallId; credit: number }
  | { kind: "credit"; id: CallId; credit: number }
  | { kind: "items"; id: CallId; values: unknown[] }
  | { kind: "progress"; id: CallId; value: unknown };

/**
 * Tells whether `value` is one of the notifications above, well formed.
 *
 * @returns The notification's kind and parts, or `undefined` for anything
 *   else (a malformed one included: it is a plain message).
 */
export function classifyStream(value: unknown): StreamMessage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const message = value as Record<string, unknown>;
  const method = message.method;
  if (
    typeof method !== "string" || !method.startsWith("$/") ||
    message.jsonrpc !== "2.0" || "id" in message
  ) return undefined;
  const params = message.params;
  if (typeof params !== "object" || params === null) return undefined;
  const fields = params as Record<string, unknown>;
  const id = fields.id;
  if (
    !(typeof id === "string" || (typeof id === "number" && isFinite(id)))
  ) return undefined;
  switch (method) {
    case STREAM_METHOD:
    case CREDIT_METHOD: {
      const credit = fields.credit;
      if (!Number.isSafeInteger(credit) || (credit as number) < 1) {
        return undefined;
      }
      return {
        kind: method === STREAM_METHOD ? "stream" : "credit",
        id,
        credit: credit as number,
      };
    }
    case ITEMS_METHOD: {
      const values = fields.values;
      return Array.isArray(values) && values.length > 0
        ? { kind: "items", id, values }
        : undefined;
    }
    case PROGRESS_METHOD:
      return { kind: "progress", id, value: fields.value };
  }
  return undefined;
}

/** The notification of `method` about call `id`. */
export function streamNotification(
  method: string,
  params: Record<string, unknown>,
): { jsonrpc: "2.0"; method: string; params: Record<string, unknown> } {
  return { jsonrpc: "2.0", method, params };
}
