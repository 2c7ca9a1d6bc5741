/**
 * Node's `"advanced"` frame of one message: a 4-byte big-endian length,
 * then a V8 `ValueSerializer` payload whose host objects carry Node IPC's
 * tags; its serializer and deserializer.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import v8 from "node:v8";
import { tooLargeToSend } from "../channel/errors.ts";
import { messageOf } from "../internal/error_message.ts";

/** Length of the size before each payload. */
export const HEADER_BYTES = 4;
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

/** `DefaultSerializer` with the host-object tags of Node's IPC. */
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
export function deserializePayload(payload: Uint8Array): unknown {
  const deserializer = new IpcDeserializer(payload);
  deserializer.readHeader();
  return deserializer.readValue();
}

/**
 * Serializes `message` into the pieces of one frame, which are written in
 * order. Usually one piece; a large typed array is a header piece and the
 * array's own bytes.
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
