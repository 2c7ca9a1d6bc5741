import assert from "node:assert/strict";
import { StreamProducer } from "./stream_producer.ts";

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
