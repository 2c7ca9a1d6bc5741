// IpcPool({ kind: "worker" }): the same pool over Web Workers in this
// process — calls spread over them, a crashed worker replaced, runaway calls
// killed, options only processes have refused.
import assert from "node:assert/strict";
import { IpcChildExitedError, IpcPool, IpcTimeoutError } from "../../mod.ts";
import { fixture, waitUntil, within } from "../helpers.ts";

const MODULE = fixture("pool_worker_module.ts");

Deno.test("a pool of workers spreads calls over them and carries structured clones", async () => {
  await using pool = new IpcPool({ kind: "worker", module: MODULE, size: 2 });
  const names = await within(
    Promise.all(
      Array.from(
        { length: 8 },
        () => pool.request<string>("name"),
      ),
    ),
    "the calls",
    // The first calls wait for both workers to type-check the module, which
    // on a cold cache and a loaded machine took over 30 s in CI.
    180_000,
  );
  assert.equal(new Set(names).size, 2, `${names}`);
  assert.ok(names.every((name) => name.startsWith("pool-worker-")));
  assert.equal(await pool.request("bytes", new Uint8Array(1000)), 1000);
  assert.equal(pool.stats().children.length, 2);
});

Deno.test("a worker that crashes in a call: the call rejects, the pool replaces the worker", async () => {
  await using pool = new IpcPool({ kind: "worker", module: MODULE, size: 1 });
  const first = await pool.request<string>("name");
  await assert.rejects(
    within(pool.request("crash"), "the crashed call"),
    IpcChildExitedError,
  );
  await waitUntil(() => pool.stats().children.length === 1, "a replacement");
  const second = await within(pool.request<string>("name"), "a call");
  assert.notEqual(second, first, "a new worker answers");
  assert.equal(await pool.request("add", { a: 2, b: 3 }), 5);
});

Deno.test("a worker that calls Deno.exit(5) in a call: the call rejects with the code, the pool replaces the worker", async () => {
  await using pool = new IpcPool({ kind: "worker", module: MODULE, size: 1 });
  const first = await within(pool.request<string>("name"), "a call", 180_000);
  await assert.rejects(
    within(pool.request("exit", 5), "the exited call"),
    (error: unknown) =>
      error instanceof IpcChildExitedError && error.code === 5 &&
      /called Deno\.exit\(5\)/.test(String((error.cause as Error).message)),
  );
  const second = await within(pool.request<string>("name"), "a call");
  assert.notEqual(second, first, "a new worker answers");
  assert.equal(pool.stats().restarts, 1);
});

Deno.test("killOnTimeout terminates a worker stuck in a runaway call", async () => {
  await using pool = new IpcPool({
    kind: "worker",
    module: MODULE,
    size: 1,
    killOnTimeout: true,
  });
  const first = await pool.request<string>("name");
  await assert.rejects(
    within(pool.request("spin", undefined, { timeout: 200 }), "the timeout"),
    IpcTimeoutError,
  );
  const second = await within(pool.request<string>("name"), "a call");
  assert.notEqual(second, first);
});

Deno.test("options only child processes have are refused for workers; worker permissions need the flag", () => {
  for (
    const extra of [
      { args: ["x"] },
      { denoArgs: ["--v8-flags=--stack-size=2000"] },
      { cwd: "/tmp" },
      { env: { A: "1" } },
      { stdout: "null" as const },
      { maxMemoryMiB: 128 },
    ]
  ) {
    assert.throws(
      () => new IpcPool({ kind: "worker", module: MODULE, size: 1, ...extra }),
      (error: unknown) =>
        error instanceof TypeError && /kind: "worker"/.test(error.message),
      JSON.stringify(extra),
    );
  }
  assert.throws(
    () =>
      new IpcPool({
        kind: "worker",
        module: MODULE,
        size: 1,
        permissions: { read: true },
      }),
    TypeError,
  );
  assert.throws(
    () => new IpcPool({ kind: "thread" as "worker", module: MODULE }),
    RangeError,
  );
});
