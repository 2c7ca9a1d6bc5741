import assert from "node:assert/strict";
import { IpcStreamProtocolError } from "./errors.ts";
import { INITIAL_CREDIT, StreamConsumer } from "./stream_consumer.ts";

function consumer(items: number, bytes: number) {
  const grants: number[] = [];
  const broken: unknown[] = [];
  const stream = new StreamConsumer<number, string>("m", { items, bytes }, {
    grant: (credit) => grants.push(credit),
    broken: (error) => broken.push(error),
  });
  return { stream, grants, broken };
}

const sixteen = Array.from({ length: 16 }, (_, i) => i);

Deno.test("the first credit is at most INITIAL_CREDIT, then the window follows highWaterMark", async () => {
  const { stream, grants } = consumer(1024, 1 << 30);
  assert.equal(stream.credit, INITIAL_CREDIT);
  stream.push(sixteen, 16 * 10);
  for (let i = 0; i < 16; i++) assert.equal((await stream.next()).value, i);
  // Items of ~10 bytes: the credit outstanding is topped up to highWaterMark
  // as soon as one item is consumed.
  assert.deepEqual(grants, [1024 - 15]);
});

Deno.test("large items cut the window to highWaterMarkBytes, and never below one item", async () => {
  const { stream, grants } = consumer(1024, 1000);
  stream.push(sixteen, 16 * 400); // 400 bytes each: a window of 2 items
  for (let i = 0; i < 16; i++) await stream.next();
  assert.deepEqual(grants, [1, 1], "outstanding kept at 2");
  const huge = consumer(1024, 1000);
  huge.stream.push(sixteen, 16 * 1_000_000);
  for (let i = 0; i < 16; i++) await huge.stream.next();
  assert.deepEqual(huge.grants, [1], "one item at a time");
});

Deno.test("items past the credit fail the stream after the ones within it", async () => {
  const { stream, broken } = consumer(4, 1 << 20);
  stream.push([0, 1, 2, 3, 4], 50);
  // A failure, not the caller's cancellation.
  assert.equal(broken.length, 1);
  assert.ok(!stream.cancelSignal.aborted);
  const seen: number[] = [];
  const error = await (async () => {
    for await (const item of stream) seen.push(item);
  })().catch((error) => error);
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.ok(error instanceof IpcStreamProtocolError);
  assert.equal(error, broken[0]);
});

Deno.test("the end of the call ends the loop after the buffered items, with the return value", async () => {
  const { stream } = consumer(16, 1 << 20);
  stream.push([1, 2], 20);
  stream.finish("done");
  assert.deepEqual(await stream.next(), { done: false, value: 1 });
  assert.deepEqual(await stream.next(), { done: false, value: 2 });
  assert.deepEqual(await stream.next(), { done: true, value: "done" });
  const early = consumer(16, 1 << 20);
  early.stream.push([1], 10);
  assert.deepEqual(await early.stream.return(), {
    done: true,
    value: undefined,
  });
  assert.ok(early.stream.cancelSignal.aborted, "the call is cancelled");
  assert.deepEqual(await early.stream.next(), { done: true, value: undefined });
});
