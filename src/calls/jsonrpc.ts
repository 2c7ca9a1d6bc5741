/**
 * The JSON-RPC 2.0 objects of the call layer: recognising them among plain
 * messages, and carrying errors across the channel.
 *
 * A message belongs to the call layer only when it has `"jsonrpc": "2.0"`
 * and exactly the shape of a request, a response, or one of the reserved
 * `$/` notifications handled here (the cancellation of a call, of a
 * process); the stream layer takes its own; anything else is a plain message.
 *
 * @module
 */

import {
  IpcMethodNotFoundError,
  IpcRemoteError,
  type IpcRemoteErrorDetails,
} from "../errors.ts";

/** The method of the notification that cancels a call (as in the Language Server Protocol). */
export const CANCEL_METHOD = "$/cancelRequest";

/**
 * The notification by which a parent asks its child process to stop
 * (`spawnWithIpc({ gracefulCancel: true })`); its `params` carry the reason.
 */
export const CANCEL_PROCESS_METHOD = "$/cancelProcess";

/** JSON-RPC error codes used by the call layer. */
export const ErrorCode = {
  /** The method has no handler. */
  methodNotFound: -32601,
  /** The answer could not be sent (its result or error is not JSON). */
  internalError: -32603,
  /** A handler threw an error without an integer `code` of its own. */
  handlerError: -32000,
  /** The call was cancelled before its handler finished (LSP's `RequestCancelled`). */
  requestCancelled: -32800,
} as const;

/** The id of a call: JSON-RPC allows a number or a string. */
export type CallId = number | string;

/** A request: a call that expects an answer. */
export interface RequestMessage {
  jsonrpc: "2.0";
  id: CallId;
  method: string;
  params?: unknown;
}

/** The error member of an error response. */
export interface WireError {
  code: number;
  message: string;
  data?: unknown;
}

/** A response: the answer to a request. */
export type ResponseMessage =
  | { jsonrpc: "2.0"; id: CallId; result: unknown }
  | { jsonrpc: "2.0"; id: CallId; error: WireError };

/** What {@linkcode classify} found. */
export type CallMessage =
  | { kind: "request"; message: RequestMessage }
  | {
    kind: "response";
    id: CallId;
    error: WireError | undefined;
    result: unknown;
  }
  | { kind: "cancel"; id: CallId }
  | { kind: "notification"; method: string; params: unknown };

const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const RESPONSE_KEYS = new Set(["jsonrpc", "id", "result", "error"]);

/**
 * Tells whether `value` is a call-layer message, and which.
 *
 * @returns The message's kind and parts, or `undefined` for a plain message.
 */
export function classify(value: unknown): CallMessage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== "2.0") return undefined;
  const method = message.method;
  if (typeof method === "string") {
    if (!("id" in message)) {
      const params = message.params;
      if (!hasOnlyKeys(message, REQUEST_KEYS)) return undefined;
      if (method === CANCEL_PROCESS_METHOD) {
        return { kind: "notification", method, params };
      }
      if (method !== CANCEL_METHOD) return undefined;
      if (typeof params !== "object" || params === null) return undefined;
      const id = (params as Record<string, unknown>).id;
      return isCallId(id) ? { kind: "cancel", id } : undefined;
    }
    if (!isCallId(message.id) || !hasOnlyKeys(message, REQUEST_KEYS)) {
      return undefined;
    }
    return { kind: "request", message: message as unknown as RequestMessage };
  }
  const id = message.id;
  if (!isCallId(id) || !hasOnlyKeys(message, RESPONSE_KEYS)) return undefined;
  const hasResult = "result" in message;
  if (hasResult === "error" in message) return undefined;
  if (hasResult) {
    return { kind: "response", id, error: undefined, result: message.result };
  }
  const error = message.error;
  if (!isWireError(error)) return undefined;
  return { kind: "response", id, error, result: undefined };
}

function isCallId(value: unknown): value is CallId {
  return typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value));
}

function isWireError(value: unknown): value is WireError {
  if (typeof value !== "object" || value === null) return false;
  const error = value as Record<string, unknown>;
  return Number.isSafeInteger(error.code) && typeof error.message === "string";
}

function hasOnlyKeys(
  message: Record<string, unknown>,
  allowed: Set<string>,
): boolean {
  for (const key in message) if (!allowed.has(key)) return false;
  return true;
}

/**
 * The error object sent for `thrown`: its message, and in `data` its name,
 * stack and own `data`. An integer `code` on the error becomes the JSON-RPC
 * code.
 */
export function errorToWire(thrown: unknown): WireError {
  if (thrown instanceof Error) {
    const fields = thrown as Error & { code?: unknown; data?: unknown };
    const data: Record<string, unknown> = { name: thrown.name };
    if (thrown.stack !== undefined) data.stack = thrown.stack;
    if (fields.data !== undefined) data.data = fields.data;
    return {
      code: Number.isSafeInteger(fields.code)
        ? fields.code as number
        : ErrorCode.handlerError,
      message: thrown.message,
      data,
    };
  }
  return {
    code: ErrorCode.handlerError,
    message: typeof thrown === "string"
      ? thrown
      : `the handler threw a value that is not an Error: ${describe(thrown)}`,
    data: { name: "Error", data: thrown },
  };
}

/**
 * The error to reject a call with, for the error object the peer sent.
 * `data` written by this library (`{ name, stack?, data? }`) is unpacked;
 * any other `data` is kept as it is.
 */
export function errorFromWire(
  method: string,
  error: WireError,
): IpcRemoteError {
  const details: IpcRemoteErrorDetails = {
    code: error.code,
    message: error.message,
    data: error.data,
  };
  const data = error.data;
  if (typeof data === "object" && data !== null && !Array.isArray(data)) {
    const fields = data as Record<string, unknown>;
    if (
      typeof fields.name === "string" &&
      (fields.stack === undefined || typeof fields.stack === "string") &&
      hasOnlyKeys(fields, WIRE_DATA_KEYS)
    ) {
      details.name = fields.name;
      details.stack = fields.stack as string | undefined;
      details.data = fields.data;
    }
  }
  return error.code === ErrorCode.methodNotFound
    ? new IpcMethodNotFoundError(method, details)
    : new IpcRemoteError(method, details);
}

const WIRE_DATA_KEYS = new Set(["name", "stack", "data"]);

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 100) ?? String(value);
  } catch {
    return typeof value;
  }
}

/**
 * The `params` member for the parameters of a call, as JSON-RPC 2.0 §4.2
 * wants it (an object or an array): an object (not an array) goes as it
 * is, by name; any other value (an array, a string, a number, a boolean,
 * `null`) goes as the one element of an array, by position. `undefined`
 * leaves `params` out.
 */
export function paramsToWire(params: unknown): unknown {
  if (params === undefined) return undefined;
  return typeof params === "object" && params !== null &&
      !Array.isArray(params)
    ? params
    : [params];
}

/**
 * What a handler gets for a request's `params`: the one element of a
 * one-element array (one parameter by position, as {@linkcode paramsToWire}
 * and other JSON-RPC libraries send a single value), else `params` as it is.
 */
export function paramsFromWire(params: unknown): unknown {
  return Array.isArray(params) && params.length === 1 ? params[0] : params;
}
