// A pool's children that send plain messages besides their answers: the
// messages reach onMessage with the child's pid (or are dropped and
// counted), and calls on the same child keep being answered meanwhile.
import assert from "node:assert/strict";
import { IpcPool, IpcTimeoutError } from "../../mod.ts";
import { fixture, within } from "../helpers.ts";

const COUNT = 200_000;

/** Makes `calls` calls of "pid", one after the other, while `busy` runs. */
async function callsMeanwhile(
  pool: IpcPool,
  calls: number,
): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < calls; i++) {
    pids.push(await within(pool.request<number>("pid"), `call ${i}`));
  }
  return pids;
}

Deno.test("a worker streaming 200,000 plain messages: onMessage gets each with the pid, in order, and calls on it keep being answered", async () => {
  const received: number[] = [];
  const pids = new Set<number>();
  await using pool = new IpcPool({
    module: fixture("chatty_worker.ts"),
    size: 1,
    concurrency: 4,
    onMessage: (message, pid) => {
      received.push((message as { i: number }).i);
      pids.add(pid);
    },
  });
  const streaming = pool.request<number>("chatter", { count: COUNT });
  const answered = await callsMeanwhile(pool, 50);
  assert.equal(await within(streaming, "the streaming call"), COUNT);
  const [child] = pool.stats().children;
  assert.deepEqual(new Set(answered), new Set([child.pid]));
  assert.deepEqual([...pids], [child.pid]);
  assert.equal(received.length, COUNT);
  assert.ok(received.every((i, index) => i === index), "in order");
  const stats = pool.stats();
  assert.equal(stats.messagesDelivered, COUNT);
  assert.equal(stats.messagesDropped, 0);
});

Deno.test("without onMessage, a worker's plain messages are dropped and counted, and never hold answers up", async () => {
  await using pool = new IpcPool({
    module: fixture("chatty_worker.ts"),
    size: 1,
    concurrency: 4,
  });
  const streaming = pool.request<number>("chatter", { count: COUNT });
  await callsMeanwhile(pool, 50);
  assert.equal(await within(streaming, "the streaming call"), COUNT);
  // Later trivial calls are answered too (they used to time out for ever).
  assert.equal(
    typeof await within(pool.request("pid"), "a later call"),
    "number",
  );
  const stats = pool.stats();
  assert.equal(stats.messagesDropped, COUNT);
  assert.equal(stats.messagesDelivered, 0);
});

Deno.test("an error thrown by onMessage is reported, and reading goes on", async () => {
  const reported: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    reported.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    let seen = 0;
    await using pool = new IpcPool({
      module: fixture("chatty_worker.ts"),
      size: 1,
      onMessage: () => {
        seen++;
        throw new Error("listener bug");
      },
    });
    assert.equal(
      await within(pool.request("chatter", { count: 3 }), "call"),
      3,
    );
    assert.equal(seen, 3);
    assert.equal(reported.length, 3);
    assert.equal((reported[0] as Error).message, "listener bug");
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("a pool call's IpcTimeoutError carries the pid of the child that had it", async () => {
  await using pool = new IpcPool({
    module: fixture("chatty_worker.ts"),
    size: 1,
  });
  const [child] = pool.stats().children;
  const error = await pool.request("sleep", 60_000, { timeout: 100 }).catch((
    e,
  ) => e);
  assert.ok(error instanceof IpcTimeoutError);
  assert.equal(error.pid, child.pid);
  assert.equal(error.timeout, 100);
  assert.match(error.message, new RegExp(`pid ${child.pid}`));
  assert.equal(error.receiveBufferFull, false);
});
