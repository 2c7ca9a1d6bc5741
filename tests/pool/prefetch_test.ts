// IpcPool prefetch with real children: a call is sent ahead to a busy
// child, yet the child still runs at most `concurrency` calls at once, and
// a call cancelled while it waits in the child never starts.
import assert from "node:assert/strict";
import { IpcPool, type IpcPoolOptions } from "../../mod.ts";
import { fixture, waitUntil, within } from "../helpers.ts";

function pool(options: Partial<IpcPoolOptions>): IpcPool {
  return new IpcPool({ module: fixture("pool_worker.ts"), ...options });
}

Deno.test("prefetch: a busy child is sent one call ahead, but runs one at a time", async () => {
  await using workers = pool({ size: 1 });
  await workers.request("pid"); // the child agreed to prefetch
  const calls = [1, 2, 3].map((value) =>
    workers.request("concurrent", { ms: 100, value })
  );
  assert.deepEqual(
    [workers.stats().inFlight, workers.stats().queued],
    [2, 1],
    "one call running, one sent ahead, one in the pool's queue",
  );
  const answers = await within(Promise.all(calls), "the calls");
  assert.deepEqual(answers, [
    { value: 1, running: 1 },
    { value: 2, running: 1 },
    { value: 3, running: 1 },
  ], "never two handlers at once");
});

Deno.test("prefetch: 0 sends calls only to a child with room", async () => {
  await using workers = pool({ size: 1, prefetch: 0 });
  await workers.request("pid");
  const calls = [1, 2].map((value) =>
    workers.request("concurrent", { ms: 50, value })
  );
  assert.deepEqual([workers.stats().inFlight, workers.stats().queued], [1, 1]);
  await within(Promise.all(calls), "the calls");
});

Deno.test("prefetch: a call cancelled while it waits in the child never runs", async () => {
  await using workers = pool({ size: 1, concurrency: 1 });
  await workers.request("pid");
  const first = workers.request("concurrent", { ms: 300, value: 1 });
  const controller = new AbortController();
  const ahead = workers.request("concurrent", { ms: 1, value: 2 }, {
    signal: controller.signal,
  });
  await waitUntil(() => workers.stats().inFlight === 2, "the call sent ahead");
  controller.abort(new Error("no longer wanted"));
  assert.match(String(await ahead.catch((e) => e)), /no longer wanted/);
  assert.deepEqual(await within(first, "the first call"), {
    value: 1,
    running: 1,
  });
  assert.equal(
    await workers.request("started"),
    2,
    "the cancelled call never started (the first call and this one did)",
  );
});

Deno.test("prefetch is checked: a negative value throws", () => {
  assert.throws(
    () => pool({ size: 1, prefetch: -1 }),
    /prefetch must be an integer of at least 0/,
  );
});

Deno.test("prefetch: no call is sent ahead to a child running a killOnTimeout call, so a kill loses none", async () => {
  await using workers = pool({ size: 1 });
  const runaway = await workers.request<number>("pid");
  const spin = workers.request("spin", null, {
    timeout: 300,
    killOnTimeout: true,
  });
  const next = workers.request<number>("pid", null, { timeout: 30_000 });
  assert.deepEqual([workers.stats().inFlight, workers.stats().queued], [1, 1]);
  assert.ok((await spin.catch((e) => e)) instanceof Error);
  assert.notEqual(await within(next, "the next call"), runaway);
});
