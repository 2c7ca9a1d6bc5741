import assert from "node:assert/strict";
import { IpcProtocolError } from "../errors.ts";
import {
  classifyStream,
  INITIAL_CREDIT,
  StreamConsumer,
  streamNotification,
  StreamProducer,
} from "./streams.ts";

Deno.test("classifyStream recognises the four notifications, well formed", () => {
  assert.deepEqual(
    classifyStream(streamNotification("$/stream", { id: 7, credit: 16 })),
    { kind: "stream", id: 7, credit: 16 },
  );
  assert.deepEqual(
    classifyStream(
      streamNotification("$/stream/credit", { id: "a", credit: 1 }),
    ),
    { kind: "credit", id: "a", credit: 1 },
  );
  assert.deepEqual(
    classifyStream(
      streamNotification("$/stream/items", { id: 7, values: [1, null] }),
    ),
    { kind: "items", id: 7, values: [1, null] },
  );
  assert.deepEqual(
    classifyStream(
      streamNotification("$/progress", { id: 3, value: { done: 1 } }),
    ),
    { kind: "progress", id: 3, value: { done: 1 } },
  );
});

Deno.test("classifyStream leaves anything malformed or foreign to the plain messages", () => {
  const malformed: unknown[] = [
    null,
    "text",
    { jsonrpc: "2.0", method: "$/stream", params: { id: 1, credit: 0 } },
    { jsonrpc: "2.0", method: "$/stream", params: { id: 1, credit: 1.5 } },
    { jsonrpc: "2.0", method: "$/stream/credit", params: { id: 1 } },
    { jsonrpc: "2.0", method: "$/stream/items", params: { id: 1, values: [] } },
    { jsonrpc: "2.0", method: "$/stream/items", params: { id: 1, values: 5 } },
    {
      jsonrpc: "2.0",
      method: "$/stream/items",
      params: { id: {}, values: [1] },
    },
    { jsonrpc: "2.0", method: "$/stream/items", params: [1, [1]] },
    { jsonrpc: "2.0", method: "$/progress" },
    { jsonrpc: "2.0", id: 1, method: "$/progress", params: { id: 1 } },
    { jsonrpc: "1.0", method: "$/progress", params: { id: 1 } },
    { jsonrpc: "2.0", method: "$/other", params: { id: 1 } },
    { jsonrpc: "2.0", method: "progress", params: { id: 1 } },
  ];
  for (const message of malformed) {
    assert.equal(classifyStream(message), undefined, JSON.stringify(message));
  }
});

/** A send that keeps what a JSON channel would carry, and refuses the rest. */
function jsonSend(sent: unknown[][]) {
  return (message: unknown) => {
    try {
      JSON.stringify(message);
    } catch (error) {
      return Promise.reject(error);
    }
    sent.push((message as { params: { values: unknown[] } }).params.values);
    return Promise.resolve();
  };
}

Deno.test("a producer sends what its credit allows, batching what is ready, then waits for more", async () => {
  const sent: unknown[][] = [];
  const producer = new StreamProducer(
    1,
    3,
    jsonSend(sent),
    new AbortController().signal,
  );
  const done = producer.run((async function* () {
    for (let i = 0; i < 5; i++) yield i;
    return "end";
  })());
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sent, [[0, 1, 2]], "one message, then it waits");
  producer.grant(10); // the end is pulled, like an item, only with credit
  assert.equal(await done, "end");
  assert.deepEqual(sent.flat(), [0, 1, 2, 3, 4]);
});

Deno.test("a value that cannot be sent fails the stream after every item before it, and stops the generator", async () => {
  const sent: unknown[][] = [];
  let stopped = false;
  const producer = new StreamProducer(
    1,
    16,
    jsonSend(sent),
    new AbortController().signal,
  );
  const error = await producer.run((async function* () {
    try {
      yield 1;
      yield 2;
      yield 10n;
      yield 3;
    } finally {
      stopped = true;
    }
  })()).catch((error) => error);
  assert.ok(error instanceof TypeError);
  assert.deepEqual(sent.flat(), [1, 2]);
  assert.ok(stopped, "the generator's finally ran");
});

Deno.test("cancelling while waiting for credit stops the generator with the signal's reason", async () => {
  const controller = new AbortController();
  let stopped = false;
  const producer = new StreamProducer(1, 1, jsonSend([]), controller.signal);
  const run = producer.run((async function* () {
    try {
      for (let i = 0;; i++) yield i;
    } finally {
      stopped = true;
    }
  })());
  await new Promise((resolve) => setTimeout(resolve, 10));
  controller.abort(new Error("cancelled"));
  await assert.rejects(run, /cancelled/);
  assert.ok(stopped);
});

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
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.method, "m");
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
