// IpcPool autoscaling with real children: growing to maxSize when calls
// would queue, idle children above minSize exiting (seen by pid), and the
// option checks that run before any child starts.
import assert from "node:assert/strict";
import { IpcPool, type IpcPoolOptions } from "../../mod.ts";
import { fixture, isRunning, waitUntil, within } from "../helpers.ts";

function pool(options: Partial<IpcPoolOptions>): IpcPool {
  return new IpcPool({ module: fixture("pool_worker.ts"), ...options });
}

/** Process ids of this process's children. */
function childPids(): number[] {
  const { stdout } = new Deno.Command("ps", {
    args: ["-o", "pid=", "--ppid", String(Deno.pid)],
  }).outputSync();
  return new TextDecoder().decode(stdout).split("\n").map((line) => line.trim())
    .filter((line) => line !== "").map(Number);
}

Deno.test("a pool grows to maxSize when calls would queue, and children above minSize exit after idleTimeout", async () => {
  await using workers = pool({ minSize: 1, maxSize: 3, idleTimeout: 300 });
  assert.equal(workers.size, 1);
  const [first] = workers.stats().children.map((child) => child.pid);
  const calls = [1, 2, 3, 4].map(() =>
    workers.request<number>("sleep", { ms: 400 })
  );
  assert.equal(workers.size, 3, "two children started for the busy pool");
  assert.equal(workers.stats().queued, 1, "the fourth call waits: maxSize");
  const pids = new Set(await within(Promise.all(calls), "the calls"));
  assert.equal(pids.size, 3, "three children answered");
  assert.ok(pids.has(first));
  await waitUntil(() => workers.size === 1, "the idle children to exit");
  const [kept] = workers.stats().children.map((child) => child.pid);
  const gone = [...pids].filter((pid) => pid !== kept);
  assert.equal(gone.length, 2);
  await waitUntil(
    () => gone.every((pid) => !isRunning(pid)),
    "the idle children's processes to end",
  );
  const stats = workers.stats();
  assert.equal(stats.starts, 3);
  assert.equal(stats.idleExits, 2);
  assert.equal(stats.restarts, 0, "idle exits are not restarts");
  assert.equal(await workers.request("fib", { n: 10 }), 55);
});

Deno.test("minSize 0: an idle pool runs no child, and a call starts one", async () => {
  await using workers = pool({ minSize: 0, maxSize: 2, idleTimeout: 100 });
  assert.equal(workers.size, 0);
  const pid = await within(workers.request<number>("pid"), "the call");
  assert.ok(pid > 0);
  await waitUntil(() => workers.size === 0, "the idle child to exit");
  await waitUntil(() => !isRunning(pid), "its process to end");
  assert.notEqual(await workers.request<number>("pid"), pid);
  assert.equal(workers.stats().starts, 2);
});

Deno.test("a fixed pool (size) neither grows nor shrinks", async () => {
  await using workers = pool({ size: 1, idleTimeout: 0 });
  const calls = [1, 2, 3].map(() => workers.request("sleep", { ms: 50 }));
  assert.equal(workers.size, 1);
  assert.equal(workers.stats().queued, 2);
  await within(Promise.all(calls), "the calls");
  assert.equal(workers.size, 1);
  assert.equal(workers.stats().idleExits, 0);
});

Deno.test("invalid sizes and limits throw from the constructor, before any child starts", () => {
  const before = childPids().length;
  const cases: [Partial<IpcPoolOptions>, ErrorConstructor, RegExp][] = [
    [
      { minSize: 3, maxSize: 2 },
      RangeError,
      /minSize \(3\) is above maxSize \(2\)/,
    ],
    [{ minSize: -1 }, RangeError, /minSize must be an integer of at least 0/],
    [{ maxSize: 1.5 }, RangeError, /maxSize must be a positive integer/],
    [{ maxSize: 0 }, RangeError, /maxSize must be a positive integer/],
    [{ size: 2, maxSize: 4 }, TypeError, /exclude each other/],
    [
      { idleTimeout: -1 },
      RangeError,
      /idleTimeout must be an integer of at least 0/,
    ],
    [
      { maxCallsPerChild: 0 },
      RangeError,
      /maxCallsPerChild must be a positive integer/,
    ],
    [
      { maxMemoryMiB: 16 },
      RangeError,
      /maxMemoryMiB must be an integer of at least 64/,
    ],
    [
      { maxMemoryMiB: "lots" as never },
      TypeError,
      /maxMemoryMiB must be a number/,
    ],
    [
      { killOnTimeout: "yes" as never },
      TypeError,
      /killOnTimeout must be a boolean/,
    ],
    [{ minSize: "1" as never }, TypeError, /minSize must be a number/],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => pool({ ...options }),
      (error: unknown) =>
        error instanceof type && message.test((error as Error).message),
      JSON.stringify(options),
    );
  }
  assert.equal(childPids().length, before, "no child was started");
});
