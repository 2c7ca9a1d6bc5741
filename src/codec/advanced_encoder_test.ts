import assert from "node:assert/strict";
import { AdvancedEncoder } from "./advanced_encoder.ts";

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
