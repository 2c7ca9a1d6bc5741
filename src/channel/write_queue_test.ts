import assert from "node:assert/strict";
import { WriteQueue } from "./write_queue.ts";

function drain(queue: WriteQueue): (string | Uint8Array)[] {
  const writes: (string | Uint8Array)[] = [];
  for (let write = queue.take(); write !== undefined; write = queue.take()) {
    writes.push(write.data);
  }
  return writes;
}

Deno.test("WriteQueue joins queued texts, up to 1 MiB per write", () => {
  const queue = new WriteQueue();
  for (let i = 0; i < 3; i++) queue.push(`{"i":${i}}\n`);
  assert.equal(queue.size, 3 * 8);
  assert.deepEqual(drain(queue), ['{"i":0}\n{"i":1}\n{"i":2}\n']);
  assert.equal(queue.size, 0);

  const line = "x".repeat(300 * 1024);
  for (let i = 0; i < 7; i++) queue.push(`${line}\n`);
  const writes = drain(queue);
  assert.deepEqual(
    writes.map((w) => w.length),
    [3, 3, 1].map((n) => n * (line.length + 1)),
  );
  assert.equal(writes.join(""), `${line}\n`.repeat(7));
});

Deno.test("WriteQueue writes a long text in slices that never split a surrogate pair", () => {
  const queue = new WriteQueue();
  const long = ("a".repeat(1024 * 1024 - 1) + "😀").repeat(3) + "end";
  queue.push([long, "\n"]);
  queue.push('"next"\n');
  const writes = drain(queue) as string[];
  assert.ok(writes.length >= 4);
  for (const write of writes) {
    const last = write.charCodeAt(write.length - 1);
    assert.ok(
      !(last >= 0xd800 && last <= 0xdbff),
      "no slice ends with a lone high surrogate",
    );
    assert.ok(write.length <= 1024 * 1024 + 8);
  }
  assert.equal(writes.join(""), `${long}\n"next"\n`);
  assert.equal(queue.size, 0);
});

Deno.test("WriteQueue accounts the size of what is left after a slice", () => {
  const queue = new WriteQueue();
  queue.push("y".repeat(2.5 * 1024 * 1024));
  const total = queue.size;
  const first = queue.take()!;
  assert.equal(first.size, 1024 * 1024);
  assert.equal(queue.size, total - first.size);
  const rest = drain(queue);
  assert.equal(rest.join("").length, total - first.size);
});

Deno.test("WriteQueue writes a large binary piece as it is and joins small ones", () => {
  const queue = new WriteQueue();
  const header = new Uint8Array([0, 0, 0, 9]);
  const body = new Uint8Array(2 * 1024 * 1024);
  queue.push([header, body]);
  queue.push([new Uint8Array([1, 2]), new Uint8Array([3])]);
  const writes = drain(queue) as Uint8Array[];
  assert.equal(writes.length, 3);
  assert.deepEqual(writes[0], header);
  assert.equal(writes[1], body, "the large piece is not copied");
  assert.deepEqual([...writes[2]], [1, 2, 3]);
});

Deno.test("WriteQueue.clear drops everything", () => {
  const queue = new WriteQueue();
  queue.push("z".repeat(3 * 1024 * 1024));
  queue.take();
  queue.clear();
  assert.equal(queue.size, 0);
  assert.equal(queue.take(), undefined);
});
