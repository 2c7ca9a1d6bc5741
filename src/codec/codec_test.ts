import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { IpcMessageTooLargeError } from "../channel/errors.ts";
import { codecFor, type EncodedMessage } from "./codec.ts";

function bytesOf(encoded: EncodedMessage): Uint8Array {
  const pieces = typeof encoded === "string" || encoded instanceof Uint8Array
    ? [encoded]
    : encoded;
  return Buffer.concat(
    pieces.map((piece) =>
      typeof piece === "string" ? new TextEncoder().encode(piece) : piece
    ),
  );
}

for (const serialization of ["json", "advanced"] as const) {
  Deno.test(`the ${serialization} codec decodes what it encodes, however the bytes are cut`, () => {
    const codec = codecFor(serialization);
    assert.equal(codec.serialization, serialization);
    const messages = [
      { a: 1 },
      "é ✓ 😀",
      [1, null, true],
      0,
      "x".repeat(70_000),
    ];
    const wire = Buffer.concat(
      messages.map((message) => bytesOf(codec.encode(message, 1 << 20))),
    );
    const received: unknown[] = [];
    const decoder = codec.decoder((message) => received.push(message), 1 << 20);
    for (let at = 0; at < wire.length; at += 7) {
      assert.equal(decoder.push(wire.subarray(at, at + 7)), undefined);
    }
    assert.equal(decoder.end(), undefined);
    assert.deepEqual(received, messages);
    assert.equal(decoder.messageCount, messages.length);
    assert.equal(decoder.bytesReceived, wire.length);
  });

  Deno.test(`the ${serialization} codec refuses a message over the limit before encoding it whole`, () => {
    const codec = codecFor(serialization);
    assert.throws(
      () => codec.encode("y".repeat(100), 50),
      IpcMessageTooLargeError,
    );
  });
}

Deno.test("the json codec keeps a large text's newline apart, so it is never copied to add it", () => {
  const codec = codecFor("json");
  const big = "z".repeat(3 * 1024 * 1024);
  const encoded = codec.encode(big, 1 << 30);
  assert.ok(Array.isArray(encoded));
  assert.equal(encoded.length, 2);
  assert.equal(encoded[1], "\n");
  assert.equal(codec.encode({ small: 1 }, 1 << 30), '{"small":1}\n');
});
