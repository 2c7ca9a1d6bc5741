import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import v8 from "node:v8";
import { IpcMessageTooLargeError, IpcProtocolError } from "../errors.ts";
import {
  AdvancedDecoder,
  AdvancedEncoder,
  encodeAdvancedMessage,
} from "./advanced.ts";

const NO_LIMIT = 1 << 30;

function frameOf(message: unknown): Uint8Array {
  const pieces = encodeAdvancedMessage(message, NO_LIMIT);
  return Buffer.concat(pieces);
}

function decodeAll(chunks: Uint8Array[], maxMessageBytes = NO_LIMIT) {
  const messages: unknown[] = [];
  const decoder = new AdvancedDecoder((m) => messages.push(m), {
    maxMessageBytes,
  });
  let error;
  for (const chunk of chunks) {
    const scratch = new Uint8Array(chunk); // a copy (Buffer#slice would be a view)
    error = decoder.push(scratch);
    scratch.fill(0xee); // decoded views must not point into the caller's buffer
    if (error) break;
  }
  return { messages, error: error ?? decoder.end() };
}

const cyclic: Record<string, unknown> = { name: "loop" };
cyclic.self = cyclic;

const VALUES: unknown[] = [
  new Uint8Array([1, 2, 3]),
  Buffer.from("buffer"),
  new Float64Array([1.5, -2]),
  new BigInt64Array([-(2n ** 63n)]),
  new Date(86_400_000),
  new Map<unknown, unknown>([[1, "one"], ["k", { v: [1] }]]),
  new Set(["a", 1, null]),
  2n ** 100n,
  /pattern\d+/giu,
  undefined,
  { nested: { u: undefined, d: new Date(0), bytes: new Uint8Array(2) } },
  cyclic,
];

Deno.test("advanced frames are a 4-byte big-endian length and a V8 serialization", () => {
  for (const value of [{ a: 1 }, "text", [1, 2, 3], new Map([[1, 2]])]) {
    const frame = frameOf(value);
    const payload = v8.serialize(value); // no host objects: the same as Node's IPC
    assert.equal(
      new DataView(frame.buffer, frame.byteOffset).getUint32(0),
      payload.length,
    );
    assert.deepEqual(
      new Uint8Array(frame.subarray(4)),
      new Uint8Array(payload),
    );
  }
});

Deno.test("typed arrays carry Node IPC's host-object tag", () => {
  // What Node 20's child_process writes for { b: Uint8Array [1, 2] }.
  const node = [
    0xff,
    0x0f,
    0x6f,
    0x22,
    0x01,
    0x62,
    0x5c,
    0x00,
    0x01,
    0x02,
    0x01,
    0x02,
    0x7b,
    0x01,
  ];
  assert.deepEqual(
    [...frameOf({ b: new Uint8Array([1, 2]) }).subarray(4)],
    node,
  );
});

Deno.test("a large typed array is framed without the serializer, with the same bytes", () => {
  for (
    const view of [
      new Uint8Array(200_000).fill(7),
      Buffer.alloc(70_000, 1),
      new Float32Array(100_000),
      new DataView(new ArrayBuffer(80_000)),
    ]
  ) {
    const pieces = encodeAdvancedMessage(view, NO_LIMIT);
    assert.equal(pieces.length, 2, "a header piece and the caller's bytes");
    assert.equal(pieces[1].buffer, view.buffer, "the bytes are not copied");
    // The serializer's own frame for the same view, through an object wrapper removed again:
    const viaSerializer = encodeAdvancedMessage([view], NO_LIMIT)[0];
    const direct = Buffer.concat(pieces);
    // [view] is "array of 1" around the same bytes: A1 01 <view> 24 00 01 in V8's format.
    const inner = viaSerializer.subarray(4 + 2 + 2, viaSerializer.length - 3);
    assert.deepEqual(
      new Uint8Array(direct.subarray(4 + 2)),
      new Uint8Array(inner),
    );
  }
});

Deno.test("every advanced-mode type round-trips through the decoder", () => {
  const bytes = Buffer.concat(VALUES.map(frameOf));
  const { messages, error } = decodeAll([bytes]);
  assert.equal(error, undefined);
  assert.equal(messages.length, VALUES.length);
  for (let i = 0; i < VALUES.length; i++) {
    if (VALUES[i] instanceof RegExp) {
      assert.equal(String(messages[i]), String(VALUES[i]));
    } else assert.deepEqual(messages[i], VALUES[i]);
  }
  const loop = messages[VALUES.length - 1] as Record<string, unknown>;
  assert.equal(loop.self, loop, "the cycle is a cycle again");
  const error2 = frameOf(new RangeError("out of range"));
  const [decodedError] = decodeAll([error2]).messages;
  assert.ok(decodedError instanceof RangeError);
  assert.equal((decodedError as Error).message, "out of range");
});

Deno.test("the advanced decoder decodes the same messages for every split point", () => {
  const values = [new Uint8Array([9, 8, 7]), { d: new Date(5) }, 3n];
  const bytes = Buffer.concat(values.map(frameOf));
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { messages, error } = decodeAll([
      bytes.subarray(0, cut),
      bytes.subarray(cut),
    ]);
    assert.equal(error, undefined, `cut at ${cut}`);
    assert.deepEqual(messages, values, `cut at ${cut}`);
  }
  const bytewise = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  assert.deepEqual(decodeAll(bytewise).messages, values);
});

Deno.test("a truncated advanced frame is reported after the messages before it", () => {
  const bytes = Buffer.concat([frameOf(1), frameOf({ two: 2 })]);
  for (const cut of [frameOf(1).length + 2, bytes.length - 1]) {
    const { messages, error } = decodeAll([bytes.subarray(0, cut)]);
    assert.deepEqual(messages, [1]);
    assert.ok(error instanceof IpcProtocolError);
    assert.equal(error.truncated, true);
    assert.equal(error.messageIndex, 1);
    assert.equal(error.byteOffset, frameOf(1).length);
  }
});

Deno.test("a corrupt advanced payload is reported after the messages before it", () => {
  const corrupt = new Uint8Array([0, 0, 0, 3, 0xde, 0xad, 0xbe]);
  const bytes = Buffer.concat([frameOf("ok"), corrupt, frameOf("never")]);
  const { messages, error } = decodeAll([bytes]);
  assert.deepEqual(messages, ["ok"]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.truncated, false);
  assert.match(error.message, /Corrupt IPC message #1/);
  assert.equal(error.excerpt, "de ad be");
});

Deno.test("an advanced frame announcing more than maxMessageBytes fails before its payload is buffered", () => {
  const decoder = new AdvancedDecoder(() => {}, { maxMessageBytes: 1000 });
  const error = decoder.push(new Uint8Array([0, 0, 0x10, 0]));
  assert.ok(error instanceof IpcMessageTooLargeError);
  assert.equal(error.size, 4096);
  // Nothing of the frame is kept: more bytes and the end report the same error.
  assert.equal(decoder.push(new Uint8Array(4096)), error);
  assert.equal(decoder.end(), error);
});

Deno.test("encodeAdvancedMessage refuses what V8 cannot clone and what is too large", () => {
  assert.throws(() => encodeAdvancedMessage(() => 1, NO_LIMIT), TypeError);
  assert.throws(
    () => encodeAdvancedMessage({ f: Symbol("s") }, NO_LIMIT),
    TypeError,
  );
  assert.throws(
    () => encodeAdvancedMessage("x".repeat(2000), 1000),
    IpcMessageTooLargeError,
  );
  assert.throws(
    () => encodeAdvancedMessage(new Uint8Array(100_000), 1000),
    IpcMessageTooLargeError,
  );
});

Deno.test("AdvancedEncoder writes a large typed array's bytes as they are, and joins small frames", () => {
  const encoder = new AdvancedEncoder(1 << 30);
  const body = new Uint8Array(2 * 1024 * 1024);
  encoder.push(body);
  encoder.push({ a: 1 });
  encoder.push([2]);
  const writes: Uint8Array[] = [];
  for (
    let write = encoder.take();
    write !== undefined;
    write = encoder.take()
  ) {
    writes.push(write.data as Uint8Array);
  }
  assert.equal(
    writes.length,
    3,
    "header, the array's own bytes, the two small frames together",
  );
  assert.equal(writes[1].buffer, body.buffer, "the large piece is not copied");
  assert.equal(encoder.size, 0);
});

Deno.test("AdvancedEncoder.clear drops everything", () => {
  const encoder = new AdvancedEncoder(1 << 30);
  encoder.push(new Uint8Array(3 * 1024 * 1024));
  encoder.take();
  encoder.clear();
  assert.equal(encoder.size, 0);
  assert.equal(encoder.take(), undefined);
});
