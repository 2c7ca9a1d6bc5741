import assert from "node:assert/strict";
import { AsyncQueue } from "./async_queue.ts";

Deno.test("AsyncQueue hands an item to a waiting reader, or buffers it with its weight", async () => {
  const waiting: boolean[] = [];
  const taken: number[] = [];
  const queue = new AsyncQueue<string>({
    waitingChanged: (value) => waiting.push(value),
    taken: (weight) => taken.push(weight),
  });
  const first = queue.next();
  assert.equal(queue.waiting, true);
  queue.push("a", 5);
  assert.deepEqual(await first, { value: "a", done: false });
  assert.equal(queue.weight, 0, "handed over, not buffered");
  queue.push("b", 3);
  queue.push("c", 4);
  assert.equal(queue.weight, 7);
  assert.deepEqual(await queue.next(), { value: "b", done: false });
  assert.deepEqual(taken, [4]);
  assert.deepEqual(waiting, [true, false]);
});

Deno.test("AsyncQueue ends after what is buffered, or throws the error it ended with", async () => {
  const queue = new AsyncQueue<number>();
  queue.push(1);
  queue.end();
  queue.push(2); // dropped: the queue ended
  assert.deepEqual(await queue.next(), { value: 1, done: false });
  assert.deepEqual(await queue.next(), { value: undefined, done: true });

  const failing = new AsyncQueue<number>();
  const reader = failing.next();
  const error = new Error("broken");
  failing.end(error);
  await assert.rejects(reader, (thrown) => thrown === error);
  await assert.rejects(failing.next(), (thrown) => thrown === error);
});

Deno.test("AsyncQueue delivers an error in an item's place, then goes on", async () => {
  const queue = new AsyncQueue<number>();
  queue.push(1);
  queue.pushError(new RangeError("bad item"));
  queue.push(3);
  const seen: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    seen.push(await queue.next().then((r) => r.value, (e) => e.name));
  }
  assert.deepEqual(seen, [1, "RangeError", 3]);
});

Deno.test("AsyncQueue.retain drops the items it is told to, with their weight", async () => {
  const queue = new AsyncQueue<number>();
  for (let i = 0; i < 6; i++) queue.push(i, 10);
  queue.retain((n) => n % 2 === 0);
  assert.equal(queue.length, 3);
  assert.equal(queue.weight, 30);
  const kept: number[] = [];
  queue.end();
  for await (const n of queue.iterator()) kept.push(n);
  assert.deepEqual(kept, [0, 2, 4]);
});
