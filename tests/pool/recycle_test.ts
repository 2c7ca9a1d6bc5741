// IpcPool recycling with real children: retirement after maxCallsPerChild
// calls (seen by pid change, replacement started first), a child whose
// memory passes maxMemoryMiB replaced, a call that exhausts the heap
// rejecting with IpcChildExitedError saying so, and killOnTimeout.
import assert from "node:assert/strict";
import {
  IpcChildExitedError,
  IpcPool,
  type IpcPoolOptions,
  IpcTimeoutError,
} from "../../mod.ts";
import { fixture, isRunning, waitUntil, within } from "../helpers.ts";

function pool(options: Partial<IpcPoolOptions>): IpcPool {
  return new IpcPool({ module: fixture("pool_worker.ts"), ...options });
}

Deno.test("maxCallsPerChild: a child is retired after N calls and its replacement takes the next", async () => {
  await using workers = pool({ size: 1, maxCallsPerChild: 3 });
  const pids: number[] = [];
  for (let i = 0; i < 7; i++) {
    pids.push(await within(workers.request<number>("pid"), "a call"));
    assert.equal(workers.size, 1, "capacity never dips");
  }
  const [a, b, c] = [pids[0], pids[3], pids[6]];
  assert.deepEqual(pids, [a, a, a, b, b, b, c]);
  assert.equal(new Set([a, b, c]).size, 3);
  await waitUntil(
    () => !isRunning(a) && !isRunning(b),
    "retired children to end",
  );
  const stats = workers.stats();
  assert.equal(stats.retirements.maxCalls, 2);
  assert.equal(stats.restarts, 0, "retirements are not restarts");
  assert.equal(stats.starts, 3);
  assert.equal(stats.failed, 0);
});

Deno.test("maxCallsPerChild with calls in flight: the retiring child finishes them", async () => {
  await using workers = pool({ size: 1, concurrency: 4, maxCallsPerChild: 2 });
  const calls = [1, 2, 3, 4].map((value) =>
    workers.request<number>("sleep", { ms: 200, value: Deno.pid + value })
  );
  assert.deepEqual(
    await within(Promise.all(calls), "the calls"),
    [1, 2, 3, 4].map((value) => Deno.pid + value),
  );
  assert.equal(workers.stats().retirements.maxCalls, 2);
  assert.equal(workers.stats().failed, 0);
});

Deno.test("maxMemoryMiB: a child whose RSS passes the limit between calls is replaced", async () => {
  await using workers = pool({ size: 1, maxMemoryMiB: 100 });
  const hog = await within(
    workers.request<number>("retain", { mib: 120 }),
    "the call",
  );
  await waitUntil(
    () => workers.stats().retirements.memory === 1,
    "the memory check to retire the child",
  );
  const next = await within(workers.request<number>("pid"), "a call");
  assert.notEqual(next, hog);
  await waitUntil(() => !isRunning(hog), "the memory hog to end");
  const [child] = workers.stats().children;
  assert.equal(child.pid, next);
  await waitUntil(
    () => workers.stats().children[0].rss !== undefined,
    "the new child's memory reading",
  );
  assert.ok(workers.stats().children[0].rss! < 100 * 1024 * 1024);
});

Deno.test("maxMemoryMiB: a call that exhausts the heap rejects with IpcChildExitedError saying so, and the pool serves on", async () => {
  await using workers = pool({ size: 1, maxMemoryMiB: 64, stderr: "null" });
  const before = await workers.request<number>("pid");
  const error = await within(
    workers.request("exhaustHeap").catch((e) => e),
    "the rejection",
  );
  assert.ok(error instanceof IpcChildExitedError, String(error));
  assert.equal(error.pid, before);
  assert.match(
    error.message,
    /ran out of memory \(its V8 heap is limited to maxMemoryMiB, 64 MiB\)/,
  );
  assert.match(error.reason ?? "", /ran out of memory/);
  const after = await within(workers.request<number>("pid"), "a call");
  assert.notEqual(after, before);
  assert.equal(workers.stats().restarts, 1);
});

Deno.test("killOnTimeout: a runaway handler's child is killed on timeout, and calls queued behind it go to its replacement", async () => {
  await using workers = pool({ size: 1 });
  const runaway = await workers.request<number>("pid");
  const spin = workers.request("spin", null, {
    timeout: 300,
    killOnTimeout: true,
  });
  const queued = workers.request<number>("pid", null, { timeout: 30_000 });
  const error = await within(spin.catch((e) => e), "the timeout");
  assert.ok(error instanceof IpcTimeoutError, String(error));
  assert.match(
    error.message,
    new RegExp(
      `timeout of 300 ms from the child with pid ${runaway}, which was killed \\(killOnTimeout\\)`,
    ),
  );
  assert.doesNotMatch(error.message, /cancelled/);
  const pid = await within(queued, "the queued call");
  assert.notEqual(pid, runaway, "the queued call ran in the replacement");
  await waitUntil(() => !isRunning(runaway), "the runaway child to be killed");
  const stats = workers.stats();
  assert.equal(stats.retirements.timeout, 1);
  assert.equal(stats.restarts, 0);
  assert.equal(stats.size, 1);
});

Deno.test("killOnTimeout: the other calls of the killed child reject with IpcChildExitedError naming the timeout", async () => {
  await using workers = pool({ size: 1, concurrency: 2, killOnTimeout: true });
  // Both calls start in the child before the loop blocks it.
  const bystander = workers.request("sleep", { ms: 60_000 }, {
    timeout: 60_000,
  });
  const spin = workers.request("spin", null, { timeout: 300 });
  assert.ok(await spin.catch((e) => e) instanceof IpcTimeoutError);
  const error = await within(bystander.catch((e) => e), "the rejection");
  assert.ok(error instanceof IpcChildExitedError, String(error));
  assert.equal(error.signal, "SIGKILL");
  assert.match(
    error.message,
    /killed because the call "spin" ran past its timeout of 300 ms \(killOnTimeout\)/,
  );
  assert.equal(await workers.request("fib", { n: 10 }), 55);
});

Deno.test("without killOnTimeout, a timed-out call's child keeps running it, counted, until it is retired and replaced", async () => {
  await using workers = pool({ size: 1 });
  const spinner = await workers.request<number>("pid");
  const error = await workers.request("spin", null, { timeout: 200 }).catch((
    e,
  ) => e);
  assert.ok(error instanceof IpcTimeoutError);
  assert.ok(isRunning(spinner));
  assert.deepEqual(
    workers.stats().children.map(({ pid, inFlight, abandoned }) => ({
      pid,
      inFlight,
      abandoned,
    })),
    [{ pid: spinner, inFlight: 1, abandoned: 1 }],
    "the loop still counts on its child",
  );
  // The next call waits in the pool's queue, not behind the loop, until the
  // child is retired (its handler did not end in time) and replaced.
  const next = await within(workers.request<number>("pid"), "the next call");
  assert.notEqual(next, spinner);
  const { retirements, restarts } = workers.stats();
  assert.deepEqual([retirements.abandoned, retirements.timeout, restarts], [
    1,
    0,
    0,
  ]);
  // Closing its channel cannot stop a loop: SIGTERM does, 5 s later.
  await waitUntil(() => !isRunning(spinner), "the spinning child to stop");
});
