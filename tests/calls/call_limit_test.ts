// maxConcurrentCalls with real processes: a peer flooding requests gets at
// most the limit running at once, in order of arrival, at bounded memory,
// and every call answered; two ends calling each other hard both finish.
import assert from "node:assert/strict";
import { type IpcChildProcess, IpcTimeoutError } from "../../mod.ts";
import { DEFAULT_MAX_CONCURRENT_CALLS } from "../../src/channel/options.ts";
import { spawnFixture, within } from "../helpers.ts";

type Report = {
  maxRunning: number;
  outOfOrder: number;
  cancelledAtStart: number;
  started: number;
  peakRss: number;
  peakWaiting: number;
  waiting: number;
};

const FLOOD = 100_000;
const MIB = 1024 * 1024;

/**
 * Floods the child with `count` raw JSON-RPC requests as fast as the parent
 * can queue them, without waiting for answers or for send() to drain, then
 * reads every answer; returns how many came in arrival order.
 */
async function flood(
  child: IpcChildProcess,
  first: number,
  count: number,
): Promise<number> {
  for (let i = first; i < first + count; i++) {
    child.ipc.send({
      jsonrpc: "2.0",
      id: i + 1,
      method: "work",
      params: { i, ms: 1 },
    }).catch(() => {});
  }
  let answered = 0;
  let inOrder = 0;
  for await (const message of child.ipc) {
    const { id, result } = message as { id: number; result: number };
    assert.equal(result, id - 1, "each answer is its own call's");
    if (result === first + answered) inOrder++;
    if (++answered === count) break;
  }
  assert.equal(answered, count);
  return inOrder;
}

Deno.test("a peer flooding 100,000 then 200,000 requests: at most maxConcurrentCalls run at once, in arrival order, memory does not grow with the flood, every call is answered", async () => {
  await using child = spawnFixture("call_limit_child.ts", [
    String(DEFAULT_MAX_CONCURRENT_CALLS),
    String(1 * MIB),
  ]);
  const report = () =>
    within(child.ipc.request<Report>("report"), "the report");
  let inOrder = await flood(child, 0, FLOOD);
  const mid = await report();
  inOrder += await flood(child, FLOOD, 2 * FLOOD);
  const end = await report();
  assert.ok(
    end.maxRunning <= DEFAULT_MAX_CONCURRENT_CALLS,
    `${end.maxRunning} handlers ran at once`,
  );
  assert.equal(
    end.maxRunning,
    DEFAULT_MAX_CONCURRENT_CALLS,
    "the limit was reached",
  );
  assert.equal(end.outOfOrder, 0, "handlers started in arrival order");
  assert.ok(inOrder > 0);
  // The calls waiting are bounded by receiveBufferBytes (each request is
  // 63+ bytes), so a flood twice as long waits and peaks no higher. Seen:
  // 15,215 waiting in both floods, peak RSS +5..7 MiB. With the waiting calls
  // unbounded (injected to check): 96,672 then 185,046 waiting, +31..57 MiB.
  const MiB = (bytes: number) => (bytes / MIB).toFixed(0);
  const figures = `peak RSS after ${FLOOD} calls ${MiB(mid.peakRss)} MiB, ` +
    `after ${2 * FLOOD} more ${MiB(end.peakRss)} MiB; ` +
    `calls waiting at most ${mid.peakWaiting}, then ${end.peakWaiting}`;
  console.log(figures);
  assert.ok(end.peakWaiting * 63 <= 2 * MIB, `too many waited: ${figures}`);
  assert.ok(end.peakRss - mid.peakRss < 32 * MIB, `memory grew: ${figures}`);
});

Deno.test("with a small limit and buffer, both ends calling each other thousands of times at once all finish", async () => {
  const options = { maxConcurrentCalls: 4, receiveBufferBytes: 4096 };
  await using child = spawnFixture(
    "call_limit_child.ts",
    ["4", "4096"],
    options,
  );
  child.ipc.handle("ping", (x: number) => x);
  const count = 5000;
  const [stormed, pings] = await within(
    Promise.all([
      child.ipc.request<number>("storm", count),
      Promise.all(
        Array.from(
          { length: count },
          (_, i) => child.ipc.request("work", { i, ms: 0 }),
        ),
      ),
    ]),
    "the two-way storm",
    120_000,
  );
  assert.equal(stormed, count, "the child's calls to the parent all answered");
  assert.deepEqual(pings, Array.from({ length: count }, (_, i) => i));
  const report = await child.ipc.request<Report>("report");
  assert.ok(report.maxRunning <= 4);
  assert.equal(report.waiting, 0);
});

Deno.test("a call cancelled while it waits for a place never starts", async () => {
  await using child = spawnFixture("call_limit_child.ts", ["1", String(MIB)]);
  const first = child.ipc.request("work", { i: 0, ms: 1000 });
  const error = await child.ipc.request("work", { i: 1, ms: 0 }, {
    timeout: 100,
  }).catch((e) => e);
  assert.ok(error instanceof IpcTimeoutError);
  assert.equal(await within(first, "the first call"), 0);
  const report = await within(
    child.ipc.request<Report>("report"),
    "the report",
  );
  assert.equal(report.started, 1, "only the first call ran");
  assert.equal(report.cancelledAtStart, 0);
  assert.equal(report.maxRunning, 1);
});

Deno.test("maxConcurrentCalls: Infinity lifts the limit; a bad value is refused", async () => {
  await using child = spawnFixture("call_limit_child.ts", [
    "Infinity",
    String(MIB),
  ]);
  await within(
    Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) => child.ipc.request("work", { i, ms: 50 }),
      ),
    ),
    "the calls",
  );
  const report = await child.ipc.request<Report>("report");
  assert.ok(report.maxRunning > DEFAULT_MAX_CONCURRENT_CALLS);
  const { IpcJsonStream } = await import("../../mod.ts");
  assert.throws(
    () =>
      new IpcJsonStream({
        readable: new ReadableStream(),
        writable: new WritableStream(),
      }, { maxConcurrentCalls: 0 }),
    RangeError,
  );
});
