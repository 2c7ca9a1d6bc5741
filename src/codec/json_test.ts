import assert from "node:assert/strict";
import fc from "fast-check";
import { IpcMessageTooLargeError, IpcProtocolError } from "../errors.ts";
import type { DecodeError, MessageEncoder } from "./codec.ts";
import { JsonDecoder, JsonEncoder } from "./json.ts";

function drain(encoder: MessageEncoder): string[] {
  const writes: string[] = [];
  for (
    let write = encoder.take();
    write !== undefined;
    write = encoder.take()
  ) {
    writes.push(write.data as string);
  }
  return writes;
}

Deno.test("JsonEncoder joins queued messages into lines, up to 1 MiB per write", () => {
  const encoder = new JsonEncoder(1 << 30);
  for (let i = 0; i < 3; i++) encoder.push({ i });
  assert.equal(encoder.size, 3 * 8);
  assert.deepEqual(drain(encoder), ['{"i":0}\n{"i":1}\n{"i":2}\n']);
  assert.equal(encoder.size, 0);

  const line = "x".repeat(300 * 1024 - 2);
  for (let i = 0; i < 7; i++) encoder.push(line);
  const writes = drain(encoder);
  assert.deepEqual(
    writes.map((w) => w.length),
    [3, 3, 1].map((n) => n * 300 * 1024 + n),
  );
  assert.equal(writes.join(""), `"${line}"\n`.repeat(7));
});

Deno.test("JsonEncoder writes a long text in slices that never split a surrogate pair", () => {
  const encoder = new JsonEncoder(1 << 30);
  const long = ("a".repeat(1024 * 1024 - 1) + "😀").repeat(3) + "end";
  encoder.push(long);
  encoder.push("next");
  const writes = drain(encoder);
  assert.ok(writes.length >= 4);
  for (const write of writes) {
    const last = write.charCodeAt(write.length - 1);
    assert.ok(
      !(last >= 0xd800 && last <= 0xdbff),
      "no slice ends with a lone high surrogate",
    );
    assert.ok(write.length <= 2 * 1024 * 1024 + 16);
  }
  assert.equal(writes.join(""), `${JSON.stringify(long)}\n"next"\n`);
  assert.equal(encoder.size, 0);
});

Deno.test("JsonEncoder accounts the size of what is left after a slice", () => {
  const encoder = new JsonEncoder(1 << 30);
  encoder.push("y".repeat(2.5 * 1024 * 1024));
  const total = encoder.size;
  const first = encoder.take()!;
  assert.equal(first.size, 1024 * 1024);
  assert.equal(encoder.size, total - first.size);
  assert.equal(drain(encoder).join("").length, total - first.size);
});

Deno.test("JsonEncoder refuses what JSON cannot carry, and what is too large, queueing nothing", () => {
  const encoder = new JsonEncoder(10);
  assert.throws(() => encoder.push(1n), TypeError);
  assert.throws(() => encoder.push(undefined), TypeError);
  assert.throws(() => encoder.push("a long string"), /maxMessageBytes/);
  assert.equal(encoder.length, 0);
  encoder.push("ok");
  encoder.clear();
  assert.equal(encoder.size, 0);
  assert.equal(encoder.take(), undefined);
});

const encoder = new TextEncoder();
const NO_LIMIT = 1 << 30;

interface Decoded {
  messages: unknown[];
  error: DecodeError | undefined;
}

/** Feeds `chunks` (each reused as the runtime reuses its read buffer) and ends the input. */
function decode(chunks: Uint8Array[], maxMessageBytes = NO_LIMIT): Decoded {
  const messages: unknown[] = [];
  const decoder = new JsonDecoder((message) => messages.push(message), {
    maxMessageBytes,
  });
  const scratch = new Uint8Array(Math.max(0, ...chunks.map((c) => c.length)));
  let error: DecodeError | undefined;
  for (const chunk of chunks) {
    scratch.set(chunk);
    error = decoder.push(scratch.subarray(0, chunk.length));
    scratch.fill(0xee); // whatever the decoder kept must have been copied
    if (error !== undefined) break;
  }
  error ??= decoder.end();
  return { messages, error };
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [
    0,
    ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b),
    bytes.length,
  ];
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) {
    chunks.push(bytes.subarray(points[i - 1], points[i]));
  }
  return chunks;
}

function ndjson(values: unknown[]): Uint8Array {
  return encoder.encode(values.map((v) => JSON.stringify(v) + "\n").join(""));
}

const SAMPLE = [
  { i: 1, s: "hello world" },
  "é — ü ✓",
  ["emoji 😀 and 𝄞", { "k€y": "ä" }],
  null,
  true,
  -1.5e300,
  "",
  { nested: { deep: [1, [2, [3]]] }, text: 'line\nbreak "quoted" \u2028' },
];

Deno.test("JsonDecoder decodes the same messages for every single split point", () => {
  const bytes = ndjson(SAMPLE);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { messages, error } = decode(splitAt(bytes, [cut]));
    assert.equal(error, undefined, `cut at ${cut}`);
    assert.deepEqual(messages, SAMPLE, `cut at ${cut}`);
  }
});

Deno.test("JsonDecoder decodes the same messages for every pair of split points", () => {
  const values = ["a€b", { x: "😀" }, 7];
  const bytes = ndjson(values);
  for (let a = 0; a <= bytes.length; a++) {
    for (let b = a; b <= bytes.length; b++) {
      const { messages, error } = decode(splitAt(bytes, [a, b]));
      assert.equal(error, undefined, `cuts ${a},${b}`);
      assert.deepEqual(messages, values, `cuts ${a},${b}`);
    }
  }
});

Deno.test("JsonDecoder decodes input fed one byte at a time", () => {
  const bytes = ndjson(SAMPLE);
  const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  assert.deepEqual(decode(chunks), { messages: SAMPLE, error: undefined });
});

Deno.test("JsonDecoder decodes any JSON values under any chunking (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.jsonValue(), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (values, cuts) => {
        const bytes = ndjson(values);
        const scaled = cuts.map((c) =>
          bytes.length === 0 ? 0 : c % (bytes.length + 1)
        );
        const { messages, error } = decode(splitAt(bytes, scaled));
        assert.equal(error, undefined);
        // JSON.stringify turns -0 into 0: compare what JSON carries.
        assert.deepEqual(
          messages,
          values.map((v) => JSON.parse(JSON.stringify(v))),
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("JsonDecoder decodes a 16 MiB message cut into 64 KiB chunks", () => {
  const big = "x".repeat(8 << 20) + "é".repeat(4 << 20);
  const bytes = ndjson([1, big, 2]);
  const cuts = [];
  for (let at = 65536; at < bytes.length; at += 65536) cuts.push(at);
  const { messages, error } = decode(splitAt(bytes, cuts));
  assert.equal(error, undefined);
  assert.equal(messages.length, 3);
  assert.equal(messages[0], 1);
  assert.ok(messages[1] === big, "the large message arrives intact");
  assert.equal(messages[2], 2);
});

Deno.test("JsonDecoder skips blank and whitespace-only lines and accepts CRLF", () => {
  const bytes = encoder.encode('\n\n1\n   \n\t\r\n{"a":2}\r\n\n3\n  ');
  assert.deepEqual(decode([bytes]), {
    messages: [1, { a: 2 }, 3],
    error: undefined,
  });
  assert.deepEqual(decode(splitAt(bytes, [1, 5, 9])), {
    messages: [1, { a: 2 }, 3],
    error: undefined,
  });
});

Deno.test("JsonDecoder reports invalid JSON after every message before it, with where and what", () => {
  const bytes = encoder.encode(
    '{"a":1}\n"é"\n{oops: not json}\n{"never":true}\n',
  );
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { messages, error } = decode(splitAt(bytes, [cut]));
    assert.deepEqual(messages, [{ a: 1 }, "é"], `cut at ${cut}`);
    assert.ok(error instanceof IpcProtocolError, `cut at ${cut}`);
    assert.equal(error.messageIndex, 2);
    assert.equal(error.byteOffset, 13); // 8 bytes of {"a":1}\n, 5 of "é"\n
    assert.equal(error.excerpt, "{oops: not json}");
    assert.equal(error.truncated, false);
    assert.match(
      error.message,
      /Invalid JSON in IPC message #2 at byte offset 13/,
    );
    assert.ok(error.cause instanceof SyntaxError);
  }
});

Deno.test("JsonDecoder shortens the excerpt of a long bad line", () => {
  const { error } = decode([encoder.encode(`[${"1,".repeat(1000)}\n`)]);
  assert.ok(error instanceof IpcProtocolError);
  const excerpt = error.excerpt ?? "";
  assert.ok(excerpt.length <= 61);
  assert.ok(excerpt.endsWith("…"));
});

Deno.test("JsonDecoder ignores everything after the first error", () => {
  const messages: unknown[] = [];
  const decoder = new JsonDecoder((m) => messages.push(m), {
    maxMessageBytes: NO_LIMIT,
  });
  const first = decoder.push(encoder.encode("1\nbad\n"));
  assert.ok(first instanceof IpcProtocolError);
  assert.equal(decoder.push(encoder.encode("2\n")), first);
  assert.equal(decoder.end(), first);
  assert.deepEqual(messages, [1]);
});

Deno.test("JsonDecoder rejects invalid UTF-8 but keeps U+FFFD that was sent as such", () => {
  const good = encoder.encode('"ok \uFFFD"\n');
  const invalidCases: [string, number[]][] = [
    ["a lone continuation byte", [0x22, 0x80, 0x22]],
    ["a truncated sequence", [0x22, 0xe2, 0x82, 0x22]],
    ["an overlong encoding", [0x22, 0xc0, 0xaf, 0x22]],
    ["a byte never valid", [0x22, 0xff, 0x22]],
  ];
  for (const [name, line] of invalidCases) {
    const bytes = new Uint8Array([
      ...good,
      ...line,
      0x0a,
      ...encoder.encode("1\n"),
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { messages, error } = decode(splitAt(bytes, [cut]));
      assert.deepEqual(messages, ["ok \uFFFD"], `${name}, cut at ${cut}`);
      assert.ok(error instanceof IpcProtocolError, `${name}, cut at ${cut}`);
      assert.equal(error.byteOffset, good.length, `${name}, cut at ${cut}`);
      assert.match(error.message, /Invalid UTF-8 in IPC message #1/);
    }
  }
});

Deno.test("JsonDecoder reports input that ends in the middle of a message as truncated", () => {
  const bytes = encoder.encode('{"a":1}\n{"b":');
  const { messages, error } = decode([bytes]);
  assert.deepEqual(messages, [{ a: 1 }]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.truncated, true);
  assert.equal(error.messageIndex, 1);
  assert.equal(error.byteOffset, 8);
  assert.equal(error.excerpt, '{"b":');
  assert.match(error.message, /ended in the middle of a message/);
});

Deno.test("JsonDecoder reports input that ends inside a multi-byte character as truncated", () => {
  const bytes = new Uint8Array([...encoder.encode('1\n"'), 0xf0, 0x9f]);
  const { messages, error } = decode([bytes]);
  assert.deepEqual(messages, [1]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.truncated, true);
  assert.equal(error.byteOffset, 2);
});

Deno.test("JsonDecoder accepts a message of exactly maxMessageBytes and refuses one byte more", () => {
  const limit = 100;
  const exact = JSON.stringify("é".repeat(49)); // 2 quotes + 98 bytes
  assert.equal(encoder.encode(exact).length, limit);
  assert.deepEqual(decode([encoder.encode(exact + "\n")], limit).messages, [
    JSON.parse(exact),
  ]);
  const over = JSON.stringify("é".repeat(49) + "x");
  const bytes = encoder.encode(`1\n${over}\n2\n`);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { messages, error } = decode(splitAt(bytes, [cut]), limit);
    assert.deepEqual(messages, [1], `cut at ${cut}`);
    assert.ok(error instanceof IpcMessageTooLargeError, `cut at ${cut}`);
    assert.equal(error.limit, limit);
    assert.ok(error.size > limit);
    assert.match(error.message, /larger than maxMessageBytes/);
  }
});

Deno.test("JsonDecoder refuses an oversized message before its newline arrives", () => {
  const messages: unknown[] = [];
  const decoder = new JsonDecoder((m) => messages.push(m), {
    maxMessageBytes: 1024,
  });
  assert.equal(decoder.push(encoder.encode('"ok"\n"')), undefined);
  const chunk = encoder.encode("x".repeat(600));
  assert.equal(decoder.push(chunk), undefined);
  const error = decoder.push(chunk);
  assert.ok(error instanceof IpcMessageTooLargeError);
  assert.equal(error.size, 1201);
  // The oversized message is dropped: its newline delivers nothing, and the
  // end reports the same error, not a truncated message.
  assert.equal(decoder.push(encoder.encode('x"\n"next"\n')), error);
  assert.equal(decoder.end(), error);
  assert.deepEqual(messages, ["ok"]);
});

Deno.test("JsonDecoder counts messages and bytes", () => {
  const messages: unknown[] = [];
  const decoder = new JsonDecoder((m) => messages.push(m), {
    maxMessageBytes: NO_LIMIT,
  });
  decoder.push(encoder.encode("1\n2\n\n3"));
  assert.deepEqual(messages, [1, 2]);
  assert.equal(decoder.bytesReceived, 6);
  // The count and the pending byte show in the error of a truncated end.
  const error = decoder.end();
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.messageIndex, 2);
  assert.equal(error.byteOffset, 5);
  assert.match(error.message, /message #2 \(byte offset 5\) got 1 bytes/);
});
