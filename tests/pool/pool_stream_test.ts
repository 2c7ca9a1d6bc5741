// Typed and streaming calls through an IpcPool of real children: the typed
// example of the issue, a stream pinned to one child as one call in flight,
// cancellation reaching the child's generator, a child crashing mid-stream,
// and progress.
import assert from "node:assert/strict";
import { IpcChildExitedError, IpcPool } from "../../mod.ts";
import type { handlers } from "../fixtures/stream_child.ts";
import { within } from "../helpers.ts";

const worker = new URL("../fixtures/stream_child.ts", import.meta.url);

Deno.test("IpcPool<typeof handlers>: typed request() and stream(), as in the issue's example", async () => {
  await using pool = new IpcPool<typeof handlers>({ module: worker, size: 2 });
  const x: number = await pool.request("fib", { n: 20 });
  assert.equal(x, 6765);
  const items: (string | number)[] = [];
  for await (const item of pool.stream("count", { n: 100 })) items.push(item);
  assert.deepEqual(items, Array.from({ length: 100 }, (_, i) => i));
  const untyped = new IpcPool({ module: worker, size: 1 });
  try {
    assert.equal(await untyped.request<number>("fib", { n: 10 }), 55);
    let sum = 0;
    for await (const i of untyped.stream<number>("count", { n: 10 })) sum += i;
    assert.equal(sum, 45);
  } finally {
    await untyped.close();
  }
});

Deno.test("pool.stream() stays on one child and counts as one call in flight there until it ends", async () => {
  const reports: unknown[] = [];
  await using pool = new IpcPool<typeof handlers>({
    module: worker,
    size: 1,
    concurrency: 1,
    onMessage: (message) => reports.push(message),
  });
  const pid = await pool.request("pid");
  const stream = pool.stream("stall", { tag: "pinned" });
  assert.deepEqual(await within(stream.next(), "the first item"), {
    done: false,
    value: "first",
  });
  assert.equal(pool.stats().inFlight, 1);
  assert.equal(pool.stats().children[0].inFlight, 1);
  const queued = pool.request("pid");
  assert.equal(pool.stats().queued, 1, "the only child is busy streaming");
  await stream.return(); // cancels the generator; the child is free again
  assert.equal(await within(queued, "the queued call"), pid);
  const stopped = () =>
    reports.some((report) =>
      (report as { finally?: string }).finally === "pinned"
    );
  await within(
    (async () => {
      while (!stopped()) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })(),
    "the generator's finally",
  );
  assert.equal(pool.stats().inFlight, 0);
});

Deno.test("a child crashing mid-stream ends the pool's loop with IpcChildExitedError; the pool keeps serving", async () => {
  await using pool = new IpcPool<typeof handlers>({ module: worker, size: 1 });
  const seen: unknown[] = [];
  const error = await within(
    (async () => {
      for await (const item of pool.stream("crash", { after: 5 })) {
        seen.push(item);
      }
    })().catch((error) => error),
    "the loop to end",
  );
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.ok(error instanceof IpcChildExitedError, String(error));
  assert.match(error.message, /code 3/);
  assert.equal(await within(pool.request("fib", { n: 12 }), "a call"), 144);
});

Deno.test("pool calls pass progress on, and a stream's signal and timeout cancel it in the child", async () => {
  await using pool = new IpcPool<typeof handlers>({ module: worker, size: 1 });
  const reports: unknown[] = [];
  const result = await pool.request("work", { steps: 2 }, {
    onProgress: (value) => reports.push(value),
  });
  assert.equal(result, "worked 2");
  assert.deepEqual(reports.slice(0, 2), [
    { step: 1, steps: 2 },
    { step: 2, steps: 2 },
  ]);
  const controller = new AbortController();
  const error = await (async () => {
    for await (const i of pool.stream("forever", { tag: "x" }, controller)) {
      if (i === 10) controller.abort(new Error("enough"));
    }
  })().catch((error) => error);
  assert.equal((error as Error).message, "enough");
  const timedOut = await (async () => {
    for await (const _ of pool.stream("stall", { tag: "y" }, { timeout: 500 }));
  })().catch((error) => error);
  assert.equal((timedOut as Error).name, "IpcTimeoutError");
  // What arrived, the pool's own timeout, and the child.
  assert.match(
    (timedOut as Error).message,
    /^The streaming call "stall" did not end within its timeout of 500 ms \(1 item received, .*\) from the child with pid \d+, and was cancelled there\./,
  );
  assert.equal(await pool.request("fib", { n: 5 }), 5);
});
