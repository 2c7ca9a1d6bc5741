/**
 * The `"json"` wire format, Node's `"json"` IPC serialization: each message
 * is `JSON.stringify(value)` and a newline, UTF-8 encoded. One file holds the
 * codec, its encoder (refuses what JSON cannot carry or what is over the size
 * limit before a byte is written; joins lines into writes) and its decoder.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  IpcMessageTooLargeError,
  IpcProtocolError,
  tooLargeToSend,
} from "../errors.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import { messageOf } from "../internal/error_message.ts";
import {
  type Codec,
  type DecodeError,
  JOIN_LIMIT_BYTES,
  type MessageDecoder,
  type MessageEncoder,
  type MessageSink,
  type QueuedWrite,
} from "./codec.ts";

/** Newline-delimited JSON. */
export const jsonCodec: Codec = {
  serialization: "json",
  encoder: (maxMessageBytes) => new JsonEncoder(maxMessageBytes),
  decoder: (sink, maxMessageBytes) =>
    new JsonDecoder(sink, { maxMessageBytes }),
};

// Encoding: one value to one line, lines joined into writes.

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

  /** A line of `signal` tabs. */
  pushSignal(signal: number): void {
    this.#texts.push("\t".repeat(signal), signal + 1);
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

// Decoding: chunks of any size to messages.

const NEWLINE = 0x0a;
const REPLACEMENT_CHARACTER = "\uFFFD";
const EXCERPT_LENGTH = 60;
/** Stands for "no message" where a blank line was skipped. */
const SKIPPED = Symbol("skipped");

const lenientUtf8 = new TextDecoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Incremental decoder of newline-delimited JSON. Each complete message goes
 * to the sink in order. On the first bad input it returns an error and
 * ignores everything after it; every message before the bad one has been
 * delivered. Blank lines (empty or only whitespace) are skipped.
 *
 * Each chunk is decoded to text once and everything else happens on that
 * text: newlines are found with `String.prototype.indexOf` (faster than
 * scanning bytes) and each line is parsed straight out of the chunk's text,
 * a slice, not a copy. A message that spans chunks is kept as the text pieces
 * of each chunk and joined once, when its newline arrives, so the cost is
 * linear in the message size however it was cut. A UTF-8 character cut by a
 * chunk boundary is carried over to the next chunk.
 *
 * UTF-8 is decoded without `fatal` (several times faster); only when a
 * chunk's text holds a U+FFFD replacement character is it decoded again
 * strictly, line by line, so invalid UTF-8 is reported, never replaced.
 * Measurements: `bench/optimizations.md`.
 */
export class JsonDecoder implements MessageDecoder {
  /** See {@linkcode MessageDecoder.onControl}. */
  onControl?: (signal: number) => void;
  #sink: MessageSink;
  #maxMessageBytes: number;
  /** Bytes pushed so far. */
  #bytesReceived = 0;
  /** The start of a UTF-8 character cut off at the end of the last chunk. */
  #carry: Uint8Array | undefined;
  /** Text of the message whose newline has not arrived yet. */
  #pendingText = "";
  #pendingBytes = 0;
  /** Stream offset of the first byte of the pending message. */
  #pendingStart = 0;
  #messageCount = 0;
  #error: DecodeError | undefined;

  /**
   * @param sink Called with each message, in order, and its size in UTF-16 code units.
   * @param options The largest message accepted, in UTF-8 bytes, not
   *   counting the newline.
   */
  constructor(sink: MessageSink, options: { maxMessageBytes: number }) {
    this.#sink = sink;
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  /** Bytes pushed so far. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /**
   * Decodes one chunk.
   *
   * @param chunk The bytes. Only read during the call, so the caller may reuse it.
   * @returns The error that stopped the decoder, if any.
   */
  push(chunk: Uint8Array): DecodeError | undefined {
    if (this.#error !== undefined) return this.#error;
    let bytes = chunk;
    let start = this.#bytesReceived;
    this.#bytesReceived += chunk.length;
    const carry = this.#carry;
    if (carry !== undefined) {
      bytes = new Uint8Array(carry.length + chunk.length);
      bytes.set(carry);
      bytes.set(chunk, carry.length);
      start -= carry.length;
      this.#carry = undefined;
    }
    const end = endOfLastCharacter(bytes);
    if (end < bytes.length) this.#carry = bytes.slice(end);
    if (end === 0) return undefined;
    const complete = end === bytes.length ? bytes : bytes.subarray(0, end);
    const text = lenientUtf8.decode(complete);
    if (text.indexOf(REPLACEMENT_CHARACTER) === -1) {
      this.#consumeText(text, start, text.length === end);
    } else {
      this.#consumeStrictly(complete, start);
    }
    return this.#error;
  }

  /**
   * Marks the end of the input.
   *
   * @returns An {@linkcode IpcProtocolError} when the input stopped in the
   *   middle of a message, or the error that stopped the decoder earlier.
   */
  end(): DecodeError | undefined {
    if (this.#error !== undefined) return this.#error;
    const carried = this.#carry?.length ?? 0;
    if (carried === 0 && isBlank(this.#pendingText)) return undefined;
    if (this.#pendingBytes === 0) {
      this.#pendingStart = this.#bytesReceived - carried;
    }
    const size = this.#pendingBytes + carried;
    const excerpt = excerptOf(this.#pendingText);
    return this.#fail(
      new IpcProtocolError(
        `The IPC channel ended in the middle of a message: message #${this.#messageCount} ` +
          `(byte offset ${this.#pendingStart}) got ${size} bytes but no closing newline. ` +
          `The peer exited or closed the channel while writing it. It starts with ${
            JSON.stringify(excerpt)
          }.`,
        {
          messageIndex: this.#messageCount,
          byteOffset: this.#pendingStart,
          excerpt,
          truncated: true,
        },
      ),
    );
  }

  /**
   * Frames and parses `text`, the decoding of the bytes from stream offset
   * `start`. `ascii` tells that each character is one byte, so character
   * positions are byte positions.
   */
  #consumeText(text: string, start: number, ascii: boolean): void {
    let lineStart = 0;
    let newline = text.indexOf("\n");
    if (this.#pendingBytes > 0) {
      if (newline === -1) {
        this.#holdPartial(text, start, ascii);
        return;
      }
      const last = text.slice(0, newline);
      const size = this.#pendingBytes + (ascii ? newline : utf8Length(last));
      if (size > this.#maxMessageBytes) {
        this.#failTooLarge(size, this.#pendingStart);
        return;
      }
      const message = this.#pendingText + last;
      this.#pendingText = "";
      this.#pendingBytes = 0;
      if (!this.#deliver(message, this.#pendingStart)) return;
      lineStart = newline + 1;
      newline = text.indexOf("\n", lineStart);
    }
    const limit = this.#maxMessageBytes;
    while (newline !== -1) {
      if (newline > lineStart) {
        const line = text.slice(lineStart, newline);
        // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only near the limit.
        if (3 * line.length > limit) {
          const size = ascii ? line.length : utf8Length(line);
          if (size > limit) {
            this.#failTooLarge(size, start + byteIndex(text, lineStart, ascii));
            return;
          }
        }
        if (!this.#deliver(line, start, text, lineStart, ascii)) return;
      }
      lineStart = newline + 1;
      newline = text.indexOf("\n", lineStart);
    }
    if (lineStart < text.length) {
      this.#holdPartial(
        lineStart === 0 ? text : text.slice(lineStart),
        start + byteIndex(text, lineStart, ascii),
        ascii,
      );
    }
  }

  /**
   * The path for a chunk whose text holds a replacement character: each line
   * is decoded strictly, so a line of invalid UTF-8 fails after every message
   * before it was delivered.
   */
  #consumeStrictly(bytes: Uint8Array, start: number): void {
    let segmentStart = 0;
    while (segmentStart < bytes.length && this.#error === undefined) {
      const newline = bytes.indexOf(NEWLINE, segmentStart);
      const segmentEnd = newline === -1 ? bytes.length : newline + 1;
      const segment = bytes.subarray(segmentStart, segmentEnd);
      let text: string;
      try {
        text = strictUtf8.decode(segment);
      } catch (error) {
        const offset = this.#pendingBytes > 0
          ? this.#pendingStart
          : start + segmentStart;
        this.#failInvalidUtf8(
          this.#pendingText + lenientUtf8.decode(segment),
          offset,
          error,
        );
        return;
      }
      this.#consumeText(
        text,
        start + segmentStart,
        text.length === segment.length,
      );
      segmentStart = segmentEnd;
    }
  }

  /** Keeps `text`, from stream offset `start`, as part of a message whose newline is still to come. */
  #holdPartial(text: string, start: number, ascii: boolean): void {
    if (this.#pendingBytes === 0) this.#pendingStart = start;
    const size = this.#pendingBytes + (ascii ? text.length : utf8Length(text));
    if (size > this.#maxMessageBytes) {
      this.#failTooLarge(size, this.#pendingStart);
      return;
    }
    this.#pendingText += text;
    this.#pendingBytes = size;
  }

  /**
   * Parses one message and hands it to the sink; skips a blank line.
   * `context`, `at` and `ascii` locate the line when it is a slice of a
   * chunk's text, for the error's byte offset.
   *
   * @returns `false` when the line was not valid JSON.
   */
  #deliver(
    line: string,
    start: number,
    context?: string,
    at = 0,
    ascii = true,
  ): boolean {
    let message: unknown = SKIPPED;
    try {
      message = JSON.parse(line);
    } catch (error) {
      if (!isBlank(line)) {
        const offset = context === undefined
          ? start
          : start + byteIndex(context, at, ascii);
        this.#failInvalidJson(line, offset, error);
        return false;
      }
      // A line of 1 to 8 tabs is a heartbeat signal (docs/protocol.md).
      if (this.onControl !== undefined && line.length <= 8) {
        if (line === "\t".repeat(line.length)) this.onControl(line.length);
      }
    }
    if (message !== SKIPPED) {
      this.#messageCount++;
      this.#sink(message, line.length);
    }
    return true;
  }

  #failInvalidJson(text: string, offset: number, cause: unknown): void {
    const excerpt = excerptOf(text);
    const reason = messageOf(cause);
    this.#fail(
      new IpcProtocolError(
        `Invalid JSON in IPC message #${this.#messageCount} at byte offset ${offset} ` +
          `(${this.#messageCount} good messages came before it): ${reason}. ` +
          `The message starts with ${JSON.stringify(excerpt)}. ` +
          `Each message must be JSON.stringify(value) followed by "\\n".`,
        {
          messageIndex: this.#messageCount,
          byteOffset: offset,
          excerpt,
          truncated: false,
        },
        { cause },
      ),
    );
  }

  #failInvalidUtf8(text: string, offset: number, cause: unknown): void {
    const excerpt = excerptOf(text);
    this.#fail(
      new IpcProtocolError(
        `Invalid UTF-8 in IPC message #${this.#messageCount} at byte offset ${offset} ` +
          `(${this.#messageCount} good messages came before it): the peer must send ` +
          `UTF-8 encoded JSON. The message starts with ${
            JSON.stringify(excerpt)
          }.`,
        {
          messageIndex: this.#messageCount,
          byteOffset: offset,
          excerpt,
          truncated: false,
        },
        { cause },
      ),
    );
  }

  #failTooLarge(size: number, offset: number): void {
    this.#fail(
      new IpcMessageTooLargeError(
        `IPC message #${this.#messageCount} at byte offset ${offset} is larger than ` +
          `maxMessageBytes (${size} bytes received so far, limit ${this.#maxMessageBytes}). ` +
          `The receiving side stopped; raise maxMessageBytes on the receiver if such messages are expected.`,
        size,
        this.#maxMessageBytes,
      ),
    );
  }

  #fail<E extends DecodeError>(error: E): E {
    this.#error = error;
    this.#pendingText = "";
    this.#pendingBytes = 0;
    this.#carry = undefined;
    return error;
  }
}

/**
 * Returns where the last complete UTF-8 character of `bytes` ends: the
 * length, unless the bytes end in the middle of a multi-byte character.
 */
function endOfLastCharacter(bytes: Uint8Array): number {
  const length = bytes.length;
  if (length === 0 || bytes[length - 1] < 0x80) return length;
  let lead = length - 1;
  while (lead > 0 && lead > length - 4 && (bytes[lead] & 0xc0) === 0x80) {
    lead--;
  }
  const first = bytes[lead];
  const needed = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return length - lead < needed ? lead : length;
}

/** Byte offset of character `index` of `text`. */
function byteIndex(text: string, index: number, ascii: boolean): number {
  return ascii || index === 0 ? index : utf8Length(text.slice(0, index));
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** `true` for text that JSON would read as nothing: empty or only whitespace. */
function isBlank(text: string): boolean {
  return text.trim() === "";
}

function excerptOf(text: string): string {
  return text.length <= EXCERPT_LENGTH
    ? text
    : `${text.slice(0, EXCERPT_LENGTH)}…`;
}
