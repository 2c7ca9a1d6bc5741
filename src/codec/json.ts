/**
 * Turns one value into one line of the wire format, `JSON.stringify(value)`
 * (the newline is added when lines are batched), refusing what JSON cannot
 * carry and what is over the size limit before a byte is written.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { tooLargeToSend } from "./errors.ts";

/**
 * Serializes `value` for the wire.
 *
 * @param value The message.
 * @param maxMessageBytes The largest message allowed, in UTF-8 bytes.
 * @returns The JSON text, without the newline.
 * @throws {TypeError} When JSON cannot represent `value` (BigInt, a cycle,
 *   or a top-level `undefined`, function or symbol).
 * @throws {IpcMessageTooLargeError} When the JSON is over `maxMessageBytes`.
 */
export function encodeJsonMessage(
  value: unknown,
  maxMessageBytes: number,
): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      `Cannot send this value over IPC: ${reason}. Messages must be JSON values ` +
        `(no BigInt, no cyclic references); convert them first, e.g. a BigInt to a string.`,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new TypeError(
      `Cannot send ${
        describe(value)
      } over IPC: JSON has no representation for it. ` +
        `Send null, a boolean, number, string, array or plain object.`,
    );
  }
  // A UTF-16 unit takes at most 3 UTF-8 bytes, so only long strings need counting.
  if (json.length * 3 > maxMessageBytes) {
    const size = Buffer.byteLength(json, "utf8");
    if (size > maxMessageBytes) throw tooLargeToSend(size, maxMessageBytes);
  }
  return json;
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  return `a value of type ${typeof value}`;
}
