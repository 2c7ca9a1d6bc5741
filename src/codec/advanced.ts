/**
 * The `"advanced"` wire format, Node's `"advanced"` IPC serialization: each
 * message is a 4-byte big-endian length, then a V8 `ValueSerializer` payload.
 * It carries what JSON cannot: every typed array, `Date`, `Map`, `Set`,
 * `BigInt`, `RegExp`, `Error`, `undefined` and cycles. One file holds the
 * codec, the frame (serializer and deserializer), the encoder and the decoder.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import v8 from "node:v8";
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

/** Node's length-prefixed V8 frames. */
export const advancedCodec: Codec = {
  serialization: "advanced",
  encoder: (maxMessageBytes) => new AdvancedEncoder(maxMessageBytes),
  decoder: (sink, maxMessageBytes) =>
    new AdvancedDecoder(sink, { maxMessageBytes }),
};

// The frame of one message.

/** Length of the size before each payload. */
const HEADER_BYTES = 4;
/** Frame sizes from this up are the heartbeat's signals, not messages. */
const CONTROL_FLOOR = 2 ** 32 - 8;
/** Views at least this large are framed without the V8 serializer. */
const DIRECT_VIEW_BYTES = 64 * 1024;

/** Node IPC's tags before a host object. */
const VIEW_TAG = 0;
const OTHER_HOST_OBJECT_TAG = 1;

/** The serialization of an empty view of each type, less its final length byte. */
const viewPrefixes = new Map<unknown, Uint8Array>();

// Node's documented hooks for host objects, which its type declarations omit.
const DefaultSerializer = v8.DefaultSerializer as unknown as new () =>
  & v8.DefaultSerializer
  & { _writeHostObject(object: object): void };
const DefaultDeserializer = v8.DefaultDeserializer as unknown as new (
  buffer: Uint8Array,
) => v8.DefaultDeserializer & { _readHostObject(): unknown };

/**
 * `DefaultSerializer` with the host-object tags of Node's IPC: each host
 * object (a typed array, `Buffer` or `DataView`) is preceded by a varint tag,
 * 0 for a view, 1 for another host object copied as a plain object. Without
 * the tag a Node peer fails with "Unable to deserialize cloned data".
 */
class IpcSerializer extends DefaultSerializer {
  override _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(VIEW_TAG);
      super._writeHostObject(object);
      return;
    }
    this.writeUint32(OTHER_HOST_OBJECT_TAG);
    this.writeValue({ ...object });
  }
}

/** `DefaultDeserializer` reading the host-object tags of Node's IPC. */
class IpcDeserializer extends DefaultDeserializer {
  override _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === VIEW_TAG) return super._readHostObject();
    if (tag === OTHER_HOST_OBJECT_TAG) return this.readValue();
    throw new TypeError(`unknown host object tag ${tag}`);
  }
}

/**
 * Serializes `message` into a whole frame: the 4-byte length, then the
 * payload. The header must be the serializer's first write: Deno's
 * serializer then writes wire format version 15, which Node 20 reads (with a
 * byte written before it, it writes version 16, which Node 20 refuses).
 */
function serializeFrame(message: unknown): Uint8Array {
  const serializer = new IpcSerializer();
  serializer.writeHeader();
  serializer.writeValue(message);
  const payload = serializer.releaseBuffer();
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Reads the payload of a frame. */
function deserializePayload(payload: Uint8Array): unknown {
  const deserializer = new IpcDeserializer(payload);
  deserializer.readHeader();
  return deserializer.readValue();
}

/**
 * Serializes `message` into the pieces of one frame, which are written in
 * order. Usually one piece; a large typed array or `Buffer` skips the V8
 * serializer, which would grow and copy a buffer for it: its frame is a
 * header piece and the caller's own bytes, the same bytes as the
 * serializer's (checked in `advanced_test.ts`; a Node child reads them in
 * `tests/process/interop_test.ts`).
 *
 * @throws {TypeError} When V8 cannot serialize the value (a function, a symbol, …).
 * @throws {IpcMessageTooLargeError} When the payload is over `maxMessageBytes`.
 */
export function encodeAdvancedMessage(
  message: unknown,
  maxMessageBytes: number,
): Uint8Array[] {
  const prefix = ArrayBuffer.isView(message) &&
      message.byteLength >= DIRECT_VIEW_BYTES
    ? viewPrefix(message)
    : undefined;
  if (prefix !== undefined) {
    const view = message as ArrayBufferView;
    const length = varint(view.byteLength);
    const size = prefix.length + length.length + view.byteLength;
    checkSize(size, maxMessageBytes);
    const head = new Uint8Array(HEADER_BYTES + prefix.length + length.length);
    new DataView(head.buffer).setUint32(0, size);
    head.set(prefix, HEADER_BYTES);
    head.set(length, HEADER_BYTES + prefix.length);
    return [
      head,
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
    ];
  }
  let frame: Uint8Array;
  try {
    frame = serializeFrame(message);
  } catch (error) {
    throw new TypeError(
      `Cannot send this value over IPC with advanced serialization: ${
        messageOf(error)
      }. ` +
        `Functions, symbols, WeakMaps and class instances' methods cannot be cloned.`,
      { cause: error },
    );
  }
  checkSize(frame.length - HEADER_BYTES, maxMessageBytes);
  return [frame];
}

function checkSize(size: number, maxMessageBytes: number): void {
  if (size > maxMessageBytes) throw tooLargeToSend(size, maxMessageBytes);
}

/**
 * The serialization of an empty view of `view`'s type, without its length;
 * `undefined` for a type V8 cannot serialize (the general path then says why).
 */
function viewPrefix(view: ArrayBufferView): Uint8Array | undefined {
  const type = Buffer.isBuffer(view) ? Buffer : view.constructor;
  let prefix = viewPrefixes.get(type);
  if (prefix === undefined) {
    const empty = Buffer.isBuffer(view)
      ? Buffer.alloc(0)
      : view instanceof DataView
      ? new DataView(new ArrayBuffer(0))
      : new (view.constructor as new (length: number) => ArrayBufferView)(0);
    let serialized: Uint8Array;
    try {
      serialized = serializeFrame(empty);
    } catch {
      return undefined;
    }
    // Drop the room for the length and the final varint(0).
    prefix = serialized.slice(HEADER_BYTES, serialized.length - 1);
    viewPrefixes.set(type, prefix);
  }
  return prefix;
}

/** The base-128 varint V8 writes for a uint32. */
function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return new Uint8Array(bytes);
}

// Encoding: messages to frames, small frames joined into writes.

/** The encoder of Node's length-prefixed V8 frames. */
export class AdvancedEncoder implements MessageEncoder {
  /** The pieces of the frames, each weighing its length. */
  #pieces = new ArrayQueue<Uint8Array>();
  #maxMessageBytes: number;

  /** @param maxMessageBytes The largest payload allowed, in bytes. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  get size(): number {
    return this.#pieces.weight;
  }

  get length(): number {
    return this.#pieces.length;
  }

  push(message: unknown): void {
    for (const piece of encodeAdvancedMessage(message, this.#maxMessageBytes)) {
      this.#pieces.push(piece, piece.length);
    }
  }

  /** A frame header announcing 2^32 − `signal` bytes, without payload. */
  pushSignal(signal: number): void {
    const header = new Uint8Array(HEADER_BYTES);
    new DataView(header.buffer).setUint32(0, 2 ** 32 - signal);
    this.#pieces.push(header, HEADER_BYTES);
  }

  /**
   * The first piece and as many after it as fit in 1 MiB together, copied
   * into one array; a piece alone (a large typed array's own bytes) is
   * written as it is, without a copy.
   */
  take(): QueuedWrite | undefined {
    const pieces = this.#pieces;
    const first = pieces.peek();
    if (first === undefined) return undefined;
    let count = 1;
    let size = first.length;
    for (let next = pieces.at(1); next !== undefined; next = pieces.at(count)) {
      if (size + next.length > JOIN_LIMIT_BYTES) break;
      size += next.length;
      count++;
    }
    if (count === 1) return { data: pieces.shift()!, size };
    const data = new Uint8Array(size);
    let at = 0;
    for (const piece of pieces.shiftMany(count)) {
      data.set(piece, at);
      at += piece.length;
    }
    return { data, size };
  }

  clear(): void {
    this.#pieces.clear();
  }
}

// Decoding: chunks of any size to messages.

const EXCERPT_BYTES = 16;

/**
 * Incremental decoder of length-prefixed V8 frames. A frame's payload is
 * gathered into one array of the announced size, so a large message costs
 * one copy, and decoded views (typed arrays) point into it without another.
 */
export class AdvancedDecoder implements MessageDecoder {
  /** See {@linkcode MessageDecoder.onControl}. */
  onControl?: (signal: number) => void;
  #sink: MessageSink;
  #maxMessageBytes: number;
  #header = new Uint8Array(HEADER_BYTES);
  #headerFilled = 0;
  #payload: Uint8Array | undefined;
  #payloadFilled = 0;
  #frameStart = 0;
  #bytesReceived = 0;
  #messageCount = 0;
  #error: DecodeError | undefined;

  /**
   * @param sink Called with each message, in order.
   * @param options The size limit of a payload.
   */
  constructor(sink: MessageSink, options: { maxMessageBytes: number }) {
    this.#sink = sink;
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  push(
    chunk: Uint8Array,
  ): DecodeError | undefined {
    if (this.#error !== undefined) return this.#error;
    const start = this.#bytesReceived;
    this.#bytesReceived += chunk.length;
    let at = 0;
    while (at < chunk.length && this.#error === undefined) {
      if (this.#payload === undefined) {
        if (this.#headerFilled === 0) this.#frameStart = start + at;
        const take = Math.min(
          HEADER_BYTES - this.#headerFilled,
          chunk.length - at,
        );
        this.#header.set(chunk.subarray(at, at + take), this.#headerFilled);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < HEADER_BYTES) break;
        const size = new DataView(this.#header.buffer).getUint32(0);
        // The eight largest sizes are heartbeat signals (docs/protocol.md).
        if (size >= CONTROL_FLOOR && this.onControl !== undefined) {
          this.#headerFilled = 0;
          this.onControl(2 ** 32 - size);
          continue;
        }
        if (size > this.#maxMessageBytes) {
          this.#fail(
            new IpcMessageTooLargeError(
              `IPC message #${this.#messageCount} at byte offset ${this.#frameStart} announces ` +
                `${size} bytes, over maxMessageBytes (${this.#maxMessageBytes}). The receiving side ` +
                `stopped; raise maxMessageBytes on the receiver if such messages are expected.`,
              size,
              this.#maxMessageBytes,
            ),
          );
          break;
        }
        // A frame wholly inside this chunk needs no gathering, but still a
        // copy: decoded views must not point into a reused read buffer.
        this.#payload = new Uint8Array(size);
        this.#payloadFilled = 0;
      }
      const payload = this.#payload;
      const take = Math.min(
        payload.length - this.#payloadFilled,
        chunk.length - at,
      );
      payload.set(chunk.subarray(at, at + take), this.#payloadFilled);
      this.#payloadFilled += take;
      at += take;
      if (this.#payloadFilled === payload.length) this.#deliver(payload);
    }
    return this.#error;
  }

  end(): DecodeError | undefined {
    if (this.#error !== undefined) return this.#error;
    if (this.#headerFilled === 0) return undefined;
    const expected = this.#payload === undefined
      ? "its 4-byte length"
      : `${this.#payload.length} payload bytes`;
    return this.#fail(
      new IpcProtocolError(
        `The IPC channel ended in the middle of a message: message #${this.#messageCount} ` +
          `(byte offset ${this.#frameStart}) got ${
            this.#headerFilled + this.#payloadFilled
          } bytes of ${expected}. ` +
          `The peer exited or closed the channel while writing it.`,
        {
          messageIndex: this.#messageCount,
          byteOffset: this.#frameStart,
          excerpt: hexExcerpt(
            this.#payload?.subarray(0, this.#payloadFilled) ?? this.#header,
          ),
          truncated: true,
        },
      ),
    );
  }

  #deliver(payload: Uint8Array): void {
    this.#payload = undefined;
    this.#headerFilled = 0;
    this.#payloadFilled = 0;
    let message: unknown;
    try {
      message = deserializePayload(payload);
    } catch (error) {
      const reason = messageOf(error);
      this.#fail(
        new IpcProtocolError(
          `Corrupt IPC message #${this.#messageCount} at byte offset ${this.#frameStart}: ` +
            `its ${payload.length}-byte payload is not a V8 serialization (${reason}). ` +
            `With serialization "advanced" both ends must send Node's advanced format.`,
          {
            messageIndex: this.#messageCount,
            byteOffset: this.#frameStart,
            excerpt: hexExcerpt(payload),
            truncated: false,
          },
          { cause: error },
        ),
      );
      return;
    }
    this.#messageCount++;
    this.#sink(message, payload.length);
  }

  #fail<E extends DecodeError>(error: E): E {
    this.#error = error;
    this.#payload = undefined;
    this.#headerFilled = 0;
    this.#payloadFilled = 0;
    return error;
  }
}

function hexExcerpt(bytes: Uint8Array): string {
  const shown = Array.from(
    bytes.subarray(0, EXCERPT_BYTES),
    (byte) => byte.toString(16).padStart(2, "0"),
  );
  return shown.join(" ") + (bytes.length > EXCERPT_BYTES ? " …" : "");
}
