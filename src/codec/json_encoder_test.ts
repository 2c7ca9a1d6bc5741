import assert from "node:assert/strict";
import type { MessageEncoder } from "./codec.ts";
import { JsonEncoder } from "./json_encoder.ts";

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
