// IpcPool with real children: spreading calls, the bounded queue, crashes
// and replacement, draining on close, timeouts and aborts in the queue, the
// children's permissions, and stats.
import assert from "node:assert/strict";
import {
  IpcChildExitedError,
  IpcClosedError,
  IpcPool,
  type IpcPoolOptions,
  IpcQueueFullError,
  IpcRemoteError,
  IpcTimeoutError,
} from "../../mod.ts";
import { fixture, isRunning, waitUntil, within } from "../helpers.ts";

function pool(options: Partial<IpcPoolOptions> = {}): IpcPool {
  return new IpcPool({
    module: fixture("pool_worker.ts"),
    size: 2,
    ...options,
  });
}

type Permissions = {
  all: Record<string, string>;
  read: Record<string, string>;
  env: Record<string, string>;
};

Deno.test("a pool spreads concurrent calls over its children", async () => {
  await using workers = pool({ size: 2 });
  const pids = await within(
    Promise.all(
      Array.from(
        { length: 6 },
        () => workers.request<number>("sleep", { ms: 100 }),
      ),
    ),
    "the calls",
  );
  const children = workers.stats().children.map((child) => child.pid);
  assert.equal(children.length, 2);
  assert.deepEqual(new Set(pids), new Set(children), "both children worked");
  assert.equal(await workers.request("fib", { n: 20 }), 6765);
});

Deno.test("a call goes to the least busy child", async () => {
  // Room for many calls per child, so only "least busy" keeps the idle child first.
  await using workers = pool({ size: 2, concurrency: 10 });
  const stop = new AbortController();
  const long = workers.request("sleep", { ms: 60_000 }, {
    signal: stop.signal,
  });
  await waitUntil(() => workers.stats().inFlight === 1, "the first call");
  const busy = workers.stats().children.find((child) => child.inFlight === 1);
  for (let i = 0; i < 4; i++) {
    const pid = await within(
      workers.request<number>("sleep", { ms: 1 }),
      "a quick call",
    );
    assert.notEqual(pid, busy?.pid, "a quick call went to the busy child");
  }
  stop.abort();
  await long.catch(() => {});
});

Deno.test("when every child is busy, calls wait in the queue", async () => {
  await using workers = pool({ size: 2 });
  const calls = [1, 2, 3, 4, 5].map((value) =>
    workers.request("sleep", { ms: 100, value })
  );
  assert.deepEqual([workers.stats().inFlight, workers.stats().queued], [2, 3]);
  assert.deepEqual(await within(Promise.all(calls), "the calls"), [
    1,
    2,
    3,
    4,
    5,
  ]);
  assert.deepEqual([workers.stats().inFlight, workers.stats().queued], [0, 0]);
});

Deno.test("past maxQueue a call rejects at once with IpcQueueFullError", async () => {
  await using workers = pool({ size: 1, maxQueue: 2 });
  const accepted = [1, 2, 3].map(() =>
    workers.request("sleep", { ms: 200, value: "done" })
  );
  assert.deepEqual(
    [workers.stats().inFlight, workers.stats().queued],
    [1, 2],
  );
  const error = await workers.request("sleep", { ms: 1 }).catch((e) => e);
  assert.ok(error instanceof IpcQueueFullError);
  assert.equal(error.maxQueue, 2);
  assert.match(error.message, /2 calls already wait.*raise maxQueue/);
  assert.deepEqual(await Promise.all(accepted), ["done", "done", "done"]);
  assert.equal(workers.stats().failed, 1);
});

Deno.test("a child that crashes rejects its in-flight calls with its pid and exit code, and is replaced", async () => {
  await using workers = pool({ size: 1, concurrency: 3 });
  const [first] = workers.stats().children;
  const bystander = workers.request("sleep", { ms: 60_000 });
  const crash = workers.request("exit", 7);
  for (const call of [bystander, crash]) {
    const error = await within(call.catch((e) => e), "the rejection");
    assert.ok(error instanceof IpcChildExitedError, String(error));
    assert.equal(error.pid, first.pid);
    assert.equal(error.code, 7);
    assert.equal(error.signal, null);
    assert.match(
      error.message,
      new RegExp(`Child process ${first.pid} exited with code 7`),
    );
  }
  const pid = await within(workers.request<number>("pid"), "a new child");
  assert.notEqual(pid, first.pid);
  assert.equal(workers.stats().restarts, 1);
  assert.equal(isRunning(first.pid), false);
});

Deno.test("a child killed from outside: the error names the signal", async () => {
  await using workers = pool({ size: 1 });
  const pid = await workers.request<number>("pid");
  const call = workers.request("sleep", { ms: 60_000 });
  await waitUntil(() => workers.stats().inFlight === 1, "the call");
  Deno.kill(pid, "SIGKILL");
  const error = await within(call.catch((e) => e), "the rejection");
  assert.ok(error instanceof IpcChildExitedError);
  assert.deepEqual([error.pid, error.code, error.signal], [
    pid,
    137,
    "SIGKILL",
  ]);
  assert.match(error.message, /was killed by SIGKILL/);
  assert.equal(await workers.request("fib", { n: 10 }), 55);
});

Deno.test("with a child killed every 200 calls, 10,000 calls all settle: answered, or failed with the crash error", async () => {
  const total = 10_000;
  await using workers = pool({ size: 2, concurrency: 2, maxQueue: total });
  let answered = 0;
  let crashed = 0;
  let kills = 0;
  const calls: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    if (i > 0 && i % 200 === 0) {
      const { children } = workers.stats();
      Deno.kill(children[kills++ % children.length].pid, "SIGKILL");
    }
    calls.push(
      workers.request<number>("fib", { n: 12 }).then((value) => {
        assert.equal(value, 144);
        answered++;
      }, (error) => {
        assert.ok(error instanceof IpcChildExitedError, String(error));
        assert.equal(error.signal, "SIGKILL");
        crashed++;
      }),
    );
    // Let calls run between kills, so kills land on busy children.
    if (i % 50 === 49) await calls[i];
  }
  await within(Promise.all(calls), "every call to settle", 120_000);
  assert.equal(answered + crashed, total);
  assert.ok(crashed > 0, "kills landed on calls in flight");
  assert.ok(
    crashed <= 3 * kills,
    `at most concurrency (2) + prefetch (1) calls lost per kill, got ${crashed} for ${kills} kills`,
  );
  const stats = workers.stats();
  assert.equal(stats.restarts, kills);
  assert.equal(stats.succeeded, answered);
  assert.equal(stats.failed, crashed);
  assert.equal(stats.children.length, 2);
});

Deno.test("a module that fails at startup makes calls fail, not hang", async () => {
  await using workers = new IpcPool({
    module: fixture("broken_worker.ts"),
    size: 1,
    stderr: "null",
  });
  for (let i = 0; i < 2; i++) {
    const error = await within(
      workers.request("anything").catch((e) => e),
      "the rejection",
    );
    assert.ok(error instanceof IpcChildExitedError);
    assert.equal(error.code, 1);
    assert.match(
      error.message,
      /had answered no call, as when its module fails to load or throws at startup\. Its stderr is discarded \(stderr: "null"\): pass stderr: "inherit"/,
    );
  }
});

Deno.test("a module that fails at startup: the error says where its own error is (stderr, or the worker's error)", async () => {
  // Its error goes to this test's stderr, as it would to a user's terminal.
  await using children = new IpcPool({
    module: fixture("broken_worker.ts"),
    size: 1,
  });
  const error = await within(
    children.request("anything").catch((e) => e),
    "the rejection",
  );
  assert.ok(error instanceof IpcChildExitedError, String(error));
  assert.match(
    error.message,
    /had answered no call, as when its module fails to load or throws at startup; its error is on this process's stderr, which the children share \(stderr: "inherit"\)/,
  );
  await using workers = new IpcPool({
    kind: "worker",
    module: fixture("broken_worker.ts"),
    size: 1,
  });
  const workerError = await within(
    workers.request("anything").catch((e) => e),
    "the worker's rejection",
    180_000,
  );
  assert.ok(workerError instanceof IpcChildExitedError, String(workerError));
  assert.match(
    workerError.message,
    /had answered no call, as when its module fails to load or throws at startup; Worker "pool-worker-\d+" threw an uncaught error: .*broken_worker: failed at startup/,
  );
});

Deno.test("close() waits for running and queued calls, then the children exit", async () => {
  const workers = pool({ size: 1 });
  const pids = workers.stats().children.map((child) => child.pid);
  const calls = [300, 10, 10].map((ms) =>
    workers.request("sleep", { ms, value: ms })
  );
  await within(workers.close(), "close()");
  assert.deepEqual(await Promise.all(calls), [300, 10, 10]);
  assert.ok(pids.every((pid) => !isRunning(pid)), "the children exited");
  const late = await workers.request("pid").catch((e) => e);
  assert.ok(late instanceof IpcClosedError);
  assert.match(late.message, /pool is closed/);
  assert.deepEqual(workers.stats().children, []);
});

Deno.test("a call that waits in the queue past its timeout, or is aborted there, is never sent", async () => {
  await using workers = pool({ size: 1 });
  // Keeps the only child busy until the end of the test.
  const stop = new AbortController();
  const running = workers.request("sleep", { ms: 60_000 }, {
    signal: stop.signal,
  });
  const timedOut = workers.request("sleep", { ms: 1 }, { timeout: 50 });
  const controller = new AbortController();
  const aborted = workers.request("sleep", { ms: 1 }, {
    signal: controller.signal,
  });
  assert.equal(workers.stats().queued, 2);
  const reason = new Error("never mind");
  controller.abort(reason);
  assert.equal(await aborted.catch((e) => e), reason);
  const error = await within(timedOut.catch((e) => e), "the timeout");
  assert.ok(error instanceof IpcTimeoutError);
  assert.match(error.message, /waited for a free child.*never sent/);
  assert.equal(workers.stats().queued, 0);
  stop.abort();
  await running.catch(() => {});
  const [child] = workers.stats().children;
  assert.equal(
    child.channel.messagesOut,
    3,
    "the pool's concurrency (for prefetch), the first call and its cancel",
  );
});

Deno.test("a running call's timeout, the pool's default, rejects with IpcTimeoutError", async () => {
  await using workers = pool({ size: 1, timeout: 100 });
  // Started first: a loaded machine may take longer than 100 ms to start it.
  await workers.request("pid", null, { timeout: 30_000 });
  const error = await workers.request("sleep", { ms: 60_000 }).catch((e) => e);
  assert.ok(error instanceof IpcTimeoutError);
  assert.equal(error.timeout, 100);
  // Its own generous timeout: a child may take longer than 100 ms to start on a loaded machine.
  const fib = workers.request("fib", { n: 5 }, { timeout: 30_000 });
  assert.equal(await fib, 5, "the child is free");
});

Deno.test("a handler's error reaches the caller and the child keeps serving", async () => {
  await using workers = pool({ size: 1 });
  const error = await workers.request("fail", "bad input").catch((e) => e);
  assert.ok(error instanceof IpcRemoteError);
  assert.equal(error.remoteName, "RangeError");
  assert.equal(await workers.request("fib", { n: 6 }), 8);
  assert.equal(workers.stats().restarts, 0);
});

Deno.test("pool children get no permissions by default", async () => {
  await using workers = pool({ size: 1 });
  const report = await workers.request<Permissions>("permissions", {});
  assert.ok(
    Object.values(report.all).every((state) => state !== "granted"),
    JSON.stringify(report.all),
  );
});

Deno.test("pool children get exactly the permissions named", async () => {
  const tmp = await Deno.realPath(Deno.env.get("TMPDIR") ?? "/tmp");
  await using workers = pool({
    size: 1,
    permissions: { read: [tmp], net: true, env: ["TETHER_TEST_VAR"] },
  });
  const report = await workers.request<Permissions>("permissions", {
    read: [tmp, `${tmp}/inside`, "/etc"],
    env: ["TETHER_TEST_VAR", "HOME"],
  });
  assert.deepEqual(report.all, {
    read: "prompt",
    write: "prompt",
    net: "granted",
    env: "prompt",
    run: "prompt",
    ffi: "prompt",
    sys: "prompt",
    import: "prompt",
  });
  assert.deepEqual(report.read, {
    [tmp]: "granted",
    [`${tmp}/inside`]: "granted",
    "/etc": "prompt",
  });
  assert.deepEqual(report.env, { TETHER_TEST_VAR: "granted", HOME: "prompt" });
});

Deno.test("permission flags cannot be slipped in through denoArgs; unknown permissions are refused", () => {
  assert.throws(
    () => pool({ denoArgs: ["--allow-all"] }),
    /grant permissions with the permissions option/,
  );
  assert.throws(() => pool({ denoArgs: ["-A"] }), TypeError);
  assert.throws(() => pool({ denoArgs: ["-R"] }), TypeError);
  assert.throws(
    () => pool({ permissions: { all: true } as never }),
    /Unknown permission "all"/,
  );
  assert.throws(
    () => pool({ permissions: { read: ["a,b"] } }),
    /without a comma/,
  );
  assert.throws(() => pool({ size: 0 }), /size must be a positive integer/);
  assert.throws(
    () => pool({ stdout: "piped" as "inherit" }),
    /stdout must be "inherit" or "null"/,
  );
});

Deno.test("module arguments reach the children", async () => {
  await using workers = pool({ size: 1, args: ["--flag", "value"] });
  assert.deepEqual(await workers.request("args"), ["--flag", "value"]);
});

Deno.test("pool stats sum the children's figures and measure latency", async () => {
  await using workers = pool({ size: 2 });
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => workers.request("fib", { n: i })),
  );
  await workers.request("fail", "x").catch(() => {});
  const stats = workers.stats();
  assert.equal(stats.succeeded, 20);
  assert.equal(stats.failed, 1);
  assert.equal(stats.errors, 1);
  assert.equal(stats.queued, 0);
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.latency.count, 21);
  assert.ok(stats.latency.p50 > 0 && stats.latency.p99 >= stats.latency.p50);
  // Each child is also told the pool's concurrency, for prefetch.
  assert.equal(stats.messagesOut, 21 + 2);
  assert.equal(stats.messagesIn, 21 + 2);
  assert.equal(
    stats.bytesIn,
    stats.children.reduce((sum, child) => sum + child.channel.bytesIn, 0),
  );
  assert.equal(
    stats.children.reduce(
      (sum, child) => sum + child.channel.calls.succeeded,
      0,
    ),
    20 + 2,
    "the calls, and the pool telling each child its concurrency",
  );
});
