import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { IpcMessageTooLargeError } from "../errors.ts";
import { advancedCodec } from "./advanced.ts";
import type { MessageEncoder } from "./codec.ts";
import { jsonCodec } from "./json.ts";

/** Everything an encoder has queued, as the bytes it would write. */
function bytesOf(encoder: MessageEncoder): Uint8Array {
  const writes: Uint8Array[] = [];
  for (
    let write = encoder.take();
    write !== undefined;
    write = encoder.take()
  ) {
    writes.push(
      typeof write.data === "string"
        ? new TextEncoder().encode(write.data)
        : write.data,
    );
  }
  return Buffer.concat(writes);
}

const CODECS = [["json", jsonCodec], ["advanced", advancedCodec]] as const;

for (const [serialization, codec] of CODECS) {
  Deno.test(`the ${serialization} codec decodes what it encodes, however the bytes are cut`, () => {
    assert.equal(codec.serialization, serialization);
    const messages = [
      { a: 1 },
      "é ✓ 😀",
      [1, null, true],
      0,
      "x".repeat(70_000),
    ];
    const encoder = codec.encoder(1 << 20);
    for (const message of messages) encoder.push(message);
    const wire = bytesOf(encoder);
    const received: unknown[] = [];
    const decoder = codec.decoder((message) => received.push(message), 1 << 20);
    for (let at = 0; at < wire.length; at += 7) {
      assert.equal(decoder.push(wire.subarray(at, at + 7)), undefined);
    }
    assert.equal(decoder.end(), undefined);
    assert.deepEqual(received, messages);
    assert.equal(decoder.bytesReceived, wire.length);
  });

  Deno.test(`the ${serialization} codec refuses a message over the limit before encoding it whole`, () => {
    const encoder = codec.encoder(50);
    assert.throws(() => encoder.push("y".repeat(100)), IpcMessageTooLargeError);
    assert.equal(encoder.length, 0);
  });
}
