// IpcPool.map() with real children: results in input order, or as they
// come; reading inputs only as fast as results are consumed; an endless
// generator stopped by `break` with no stray calls; the first failure
// cancelling the rest.
import assert from "node:assert/strict";
import { IpcPool, type IpcPoolOptions, IpcRemoteError } from "../../mod.ts";
import { fixture, sleep, waitUntil, within } from "../helpers.ts";

function pool(options: Partial<IpcPoolOptions> = {}): IpcPool {
  return new IpcPool({
    module: fixture("pool_worker.ts"),
    size: 2,
    ...options,
  });
}

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

Deno.test("map() yields results in input order by default", async () => {
  await using workers = pool();
  const inputs = Array.from({ length: 30 }, (_, n) => ({ n: n % 22 }));
  const results: number[] = [];
  for await (const value of workers.map<number>("fib", inputs)) {
    results.push(value);
  }
  assert.deepEqual(results, inputs.map(({ n }) => fib(n)));
});

Deno.test("map() with ordered: false yields each result as it is answered", async () => {
  await using workers = pool();
  async function* inputs() {
    yield { ms: 60_000, value: "slow" };
    yield { ms: 1, value: "fast" };
  }
  const results: string[] = [];
  for await (
    const value of workers.map<string>("sleep", inputs(), { ordered: false })
  ) {
    results.push(value);
    break; // In input order, this would wait for "slow".
  }
  assert.deepEqual(results, ["fast"]);
  await waitUntil(() => workers.stats().inFlight === 0, "the cancel");
});

Deno.test("map() over an endless generator: reads only as fast as results are consumed, and break stops it with no stray calls", async () => {
  await using workers = pool();
  let read = 0;
  let finished = false;
  function* endless() {
    try {
      for (let n = 0;; n++) {
        read++;
        yield { n: n % 15 };
      }
    } finally {
      finished = true;
    }
  }
  const concurrency = 4;
  let consumed = 0;
  for await (const _ of workers.map("fib", endless(), { concurrency })) {
    consumed++;
    assert.ok(
      read <= consumed + concurrency,
      `read ${read} inputs with ${consumed} results consumed`,
    );
    if (consumed === 3) await sleep(100); // a slow consumer: reading waits
    if (consumed === 25) break;
  }
  assert.ok(finished, "the generator was closed");
  await waitUntil(
    () => workers.stats().inFlight === 0 && workers.stats().queued === 0,
    "the cancelled calls to end",
  );
  const settled = () => workers.stats().succeeded + workers.stats().failed;
  assert.equal(settled(), read, "every input read became exactly one call");
  await sleep(200);
  assert.equal(settled(), read, "no call after the break");
});

Deno.test("map() rejects on the first failure, after cancelling the calls still running", async () => {
  await using workers = pool({ size: 2, concurrency: 4 });
  const inputs = [
    { method: "sleep" },
    { method: "sleep" },
    { method: "fail" },
    { method: "sleep" },
  ];
  // One method per map: "fail" throws with its params; the others sleep long.
  async function* calls() {
    for (const { method } of inputs) {
      yield method === "fail" ? "boom" : { ms: 60_000 };
    }
  }
  const iterate = async () => {
    for await (const _ of workers.map("sleepOrFail", calls())) {
      // Never reached.
    }
  };
  const error = await within(iterate().catch((e) => e), "the failure");
  assert.ok(error instanceof IpcRemoteError, String(error));
  assert.equal(error.message.includes("boom"), true);
  await waitUntil(() => workers.stats().inFlight === 0, "the cancels");
});

Deno.test("map() accepts an async iterable and a signal", async () => {
  await using workers = pool();
  const controller = new AbortController();
  async function* inputs() {
    for (let n = 0;; n++) yield { n: 5 };
  }
  let count = 0;
  const reason = new Error("enough");
  const error = await (async () => {
    for await (
      const value of workers.map("fib", inputs(), { signal: controller.signal })
    ) {
      assert.equal(value, 5);
      if (++count === 10) controller.abort(reason);
    }
  })().catch((e) => e);
  assert.equal(error, reason);
  await waitUntil(() => workers.stats().inFlight === 0, "the cancels");
});

Deno.test("map() checks its concurrency", () => {
  const workers = pool({ minSize: 0, maxSize: 1, size: undefined });
  assert.throws(
    () => workers.map("fib", [], { concurrency: 0 }),
    /map option concurrency must be a positive integer/,
  );
  return workers.close();
});
