import assert from "node:assert/strict";
import { ArrayQueue } from "./array_queue.ts";

Deno.test("ArrayQueue hands items out in order and reports its length", () => {
  const queue = new ArrayQueue<number>();
  assert.equal(queue.shift(), undefined);
  for (let i = 0; i < 5; i++) queue.push(i);
  assert.equal(queue.length, 5);
  assert.equal(queue.peek(), 0);
  assert.equal(queue.at(3), 3);
  assert.equal(queue.at(5), undefined);
  assert.deepEqual([queue.shift(), queue.shift()], [0, 1]);
  assert.equal(queue.length, 3);
  queue.clear();
  assert.equal(queue.length, 0);
  assert.equal(queue.peek(), undefined);
});

Deno.test("ArrayQueue stays in order across many compactions", () => {
  const queue = new ArrayQueue<number>();
  let next = 0;
  let expected = 0;
  // Keep ~10,000 items queued while 100,000 pass through.
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < 1000; i++) queue.push(next++);
    const take = round < 10 ? 0 : 1000;
    for (let i = 0; i < take; i++) assert.equal(queue.shift(), expected++);
  }
  while (queue.length > 0) assert.equal(queue.shift(), expected++);
  assert.equal(expected, next);
});
