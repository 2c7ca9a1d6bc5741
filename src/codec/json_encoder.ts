/**
 * {@linkcode JsonEncoder}: messages turned into lines of JSON, queued, and
 * handed out as writes that join the lines queued meanwhile.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { tooLargeToSend } from "../channel/errors.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import { messageOf } from "../internal/error_message.ts";
import {
  JOIN_LIMIT_BYTES,
  type MessageEncoder,
  type QueuedWrite,
} from "./codec.ts";

/**
 * A text longer than twice this is written in slices of this many UTF-16
 * units, one after the other, rather than encoded whole: the peer starts
 * reading after the first slice, and the encoder's buffers stay small enough
 * to be reused. The last slice takes what is left, up to twice this, so a
 * text a little over 1 MiB is not followed by a tiny second write.
 */
const TEXT_SLICE = 1024 * 1024;

/**
 * The encoder of newline-delimited JSON: each message is its JSON text and a
 * newline. The newline is added as lines are joined into a write, so no
 * message's text is copied to append it.
 */
export class JsonEncoder implements MessageEncoder {
  /** JSON texts, without their newline; each weighs its length plus one. */
  #texts = new ArrayQueue<string>();
  /** How much of the first text was already written, in slices. */
  #offset = 0;
  #maxMessageBytes: number;

  /** @param maxMessageBytes The largest message allowed, in UTF-8 bytes. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  get size(): number {
    return this.#texts.weight - this.#offset;
  }

  get length(): number {
    return this.#texts.length;
  }

  push(message: unknown): void {
    const json = encodeJsonText(message, this.#maxMessageBytes);
    this.#texts.push(json, json.length + 1);
  }

  /**
   * The first line and as many after it as fit in 1 MiB together, or the
   * next slice of a long text.
   */
  take(): QueuedWrite | undefined {
    const texts = this.#texts;
    const first = texts.peek();
    if (first === undefined) return undefined;
    const offset = this.#offset;
    if (first.length - offset > 2 * TEXT_SLICE) return this.#takeSlice(first);
    let count = 1;
    let size = first.length - offset + 1;
    for (let next = texts.at(1); next !== undefined; next = texts.at(count)) {
      if (size + next.length + 1 > JOIN_LIMIT_BYTES) break;
      size += next.length + 1;
      count++;
    }
    let data: string;
    if (count === 1) {
      const text = texts.shift()!;
      data = (offset > 0 ? text.slice(offset) : text) + "\n";
    } else {
      const lines = texts.shiftMany(count);
      if (offset > 0) lines[0] = lines[0].slice(offset);
      data = lines.join("\n") + "\n";
    }
    this.#offset = 0;
    return { data, size };
  }

  clear(): void {
    this.#texts.clear();
    this.#offset = 0;
  }

  /** The next slice of a long text; never splits a surrogate pair. */
  #takeSlice(text: string): QueuedWrite {
    const from = this.#offset;
    let to = from + TEXT_SLICE;
    const last = text.charCodeAt(to - 1);
    if (last >= 0xd800 && last <= 0xdbff) to--;
    this.#offset = to;
    return { data: text.slice(from, to), size: to - from };
  }
}

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
