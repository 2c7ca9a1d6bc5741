// IpcPool.close() with real children: forced close leaving no child alive,
// a graceful close turned forced by its timeout, and the drain signal
// (needsDrain / ready()) a producer uses to stay under maxQueue.
import assert from "node:assert/strict";
import { IpcClosedError, IpcPool, type IpcPoolOptions } from "../../mod.ts";
import { fixture, isRunning, waitUntil, within } from "../helpers.ts";

function pool(options: Partial<IpcPoolOptions> = {}): IpcPool {
  return new IpcPool({
    module: fixture("pool_worker.ts"),
    size: 2,
    ...options,
  });
}

Deno.test("close({ force: true }) rejects queued and running calls with IpcClosedError and leaves no child alive", async () => {
  // No prefetch: every call past the two running ones waits in the pool.
  const workers = pool({ size: 2, prefetch: 0 });
  const pids = await Promise.all([
    workers.request<number>("sleep", { ms: 100 }),
    workers.request<number>("sleep", { ms: 100 }),
  ]);
  const running = [
    workers.request("sleep", { ms: 60_000 }),
    workers.request("spin"), // ignores cancellation: only a signal stops it
  ].map((call) => call.catch((e) => e));
  const queued = [1, 2, 3].map(() =>
    workers.request("fib", { n: 5 }).catch((e) => e)
  );
  await waitUntil(() => workers.stats().inFlight === 2, "the running calls");
  await within(workers.close({ force: true }), "the forced close");
  for (const call of queued) {
    const error = await call;
    assert.ok(error instanceof IpcClosedError, String(error));
    assert.match(
      error.message,
      /^The call "fib" was never sent: close\(\{ force: true \}\)/,
    );
  }
  for (const call of running) {
    const error = await within(call, "the rejection");
    assert.ok(error instanceof IpcClosedError, String(error));
    assert.match(error.message, /was cancelled: close\(\{ force: true \}\)/);
  }
  assert.ok(pids.every((pid) => !isRunning(pid)), "no child is alive");
  const late = await workers.request("pid").catch((e) => e);
  assert.ok(late instanceof IpcClosedError);
});

Deno.test("close({ timeout }) drains what finishes in time, then forces the rest", async () => {
  const workers = pool({ size: 2 });
  // Both children up, so the quick call is quick.
  await Promise.all([1, 2].map(() => workers.request("sleep", { ms: 100 })));
  const quick = workers.request("sleep", { ms: 50, value: "quick" });
  const stuck = workers.request("spin").catch((e) => e);
  const pids = workers.stats().children.map((child) => child.pid);
  await within(workers.close({ timeout: 3000 }), "the close");
  assert.equal(await quick, "quick");
  const error = await stuck;
  assert.ok(error instanceof IpcClosedError, String(error));
  assert.match(error.message, /close timeout of 3000 ms passed/);
  assert.ok(pids.every((pid) => !isRunning(pid)), "no child is alive");
});

Deno.test("close({ force: true }) during a graceful close stops it at once", async () => {
  const workers = pool({ size: 1 });
  const stuck = workers.request("spin").catch((e) => e);
  const graceful = workers.close();
  await within(workers.close({ force: true }), "the forced close");
  await within(graceful, "the graceful close");
  assert.ok((await stuck) instanceof IpcClosedError);
});

Deno.test("close() checks its options", () => {
  const workers = pool({ minSize: 0, maxSize: 1, size: undefined });
  assert.throws(() => workers.close({ timeout: -1 }), RangeError);
  assert.throws(() => workers.close({ force: 1 as never }), TypeError);
  return workers.close();
});

Deno.test("needsDrain and ready() let a producer stay under maxQueue", async () => {
  await using workers = pool({ size: 1, maxQueue: 2, prefetch: 0 });
  assert.equal(workers.needsDrain, false);
  await workers.ready();
  const calls = [1, 2, 3].map((value) =>
    workers.request("sleep", { ms: 100, value })
  );
  assert.equal(workers.needsDrain, true);
  let ready = false;
  const room = workers.ready().then(() => ready = true);
  assert.equal(ready, false);
  await within(room, "room in the queue");
  assert.equal(workers.needsDrain, false);
  calls.push(workers.request("sleep", { ms: 1, value: 4 }));
  assert.deepEqual(await within(Promise.all(calls), "the calls"), [1, 2, 3, 4]);
  // A producer that awaits ready() never sees IpcQueueFullError.
  const answers: Promise<unknown>[] = [];
  for (let n = 0; n < 200; n++) {
    if (workers.needsDrain) await workers.ready();
    answers.push(workers.request("fib", { n: 10 }));
  }
  assert.equal((await Promise.all(answers)).length, 200);
  assert.equal(workers.stats().failed, 0);
});
