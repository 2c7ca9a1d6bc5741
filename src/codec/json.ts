/**
 * The `"json"` wire format: each message is `JSON.stringify(value)` and a
 * newline, UTF-8 encoded (Node's `"json"` IPC serialization). Encoding
 * refuses what JSON cannot carry and what is over the size limit before a
 * byte is written; decoding is in `json_decoder.ts`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { tooLargeToSend } from "../channel/errors.ts";
import { messageOf } from "../internal/error_message.ts";
import type { Codec } from "./codec.ts";
import { JsonDecoder } from "./json_decoder.ts";

/**
 * A text longer than this keeps its newline apart, so that the channel can
 * write it in slices without first copying it to append the newline.
 */
const LARGE_TEXT_UNITS = 2 * 1024 * 1024;

/** Newline-delimited JSON. */
export const jsonCodec: Codec = {
  serialization: "json",
  encode(message, maxMessageBytes) {
    const json = encodeJsonText(message, maxMessageBytes);
    return json.length > LARGE_TEXT_UNITS ? [json, "\n"] : json + "\n";
  },
  decoder(sink, maxMessageBytes) {
    return new JsonDecoder(sink, { maxMessageBytes });
  },
};

/**
 * Serializes `value` as JSON text, without the newline.
 *
 * @param value The message.
 * @param maxMessageBytes The largest message allowed, in UTF-8 bytes.
 * @returns The JSON text.
 * @throws {TypeError} When JSON cannot represent `value` (BigInt, a cycle,
 *   or a top-level `undefined`, function or symbol).
 * @throws {IpcMessageTooLargeError} When the JSON is over `maxMessageBytes`.
 */
export function encodeJsonText(
  value: unknown,
  maxMessageBytes: number,
): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(
      `Cannot send this value over IPC: ${
        messageOf(error)
      }. Messages must be JSON values ` +
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
