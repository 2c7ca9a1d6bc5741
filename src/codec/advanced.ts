/**
 * The `"advanced"` wire format, Node's `"advanced"` IPC serialization: each message is a 4-byte big-endian
 * length, then a V8 `ValueSerializer` payload. It carries what JSON cannot:
 * `Uint8Array` and every typed array, `Date`, `Map`, `Set`, `BigInt`,
 * `RegExp`, `Error`, `undefined` and cycles.
 *
 * The payload is what `node:v8`'s `DefaultSerializer` writes, with one
 * addition Node's IPC makes: each host object (a typed array, `Buffer` or
 * `DataView`) is preceded by a varint tag, 0 for a view, 1 for another host
 * object copied as a plain object. Without the tag a Node peer fails with
 * "Unable to deserialize cloned data".
 *
 * A message that is itself a large typed array or `Buffer` skips the V8
 * serializer, which would grow and copy a buffer for it: its frame is a few
 * header bytes and the caller's own bytes, written without a copy. The bytes
 * are the same as the serializer's (checked in `advanced_test.ts`), and a
 * Node child reads them (`tests/process/interop_test.ts`).
 *
 * @module
 */

import { AdvancedDecoder } from "./advanced_decoder.ts";
import { AdvancedEncoder } from "./advanced_encoder.ts";
import type { Codec } from "./codec.ts";

/** Node's length-prefixed V8 frames. */
export const advancedCodec: Codec = {
  serialization: "advanced",
  encoder: (maxMessageBytes) => new AdvancedEncoder(maxMessageBytes),
  decoder: (sink, maxMessageBytes) =>
    new AdvancedDecoder(sink, { maxMessageBytes }),
};
