/**
 * Crash recovery under load: 10,000 calls through a pool of 2 children
 * (2 calls each at once) while a child is killed with SIGKILL every 200
 * calls. Asserts that every call settles — answered, or failed with
 * `IpcChildExitedError` — that none is lost, and that at most 2 calls fail
 * per kill; prints the counts, the time taken and the latency.
 *
 *     deno run --allow-run --allow-env --allow-read bench/crash_bench.ts [calls] [killEvery]
 *
 * @module
 */

import assert from "node:assert/strict";
import { IpcChildExitedError, IpcPool } from "../mod.ts";

const total = Number(Deno.args[0] ?? 10_000);
const killEvery = Number(Deno.args[1] ?? 200);

await using pool = new IpcPool({
  module: new URL("../tests/fixtures/pool_worker.ts", import.meta.url),
  size: 2,
  concurrency: 2,
  maxQueue: total,
});
let answered = 0;
let crashed = 0;
let kills = 0;
const start = performance.now();
const calls: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  if (i > 0 && i % killEvery === 0) {
    const { children } = pool.stats();
    Deno.kill(children[kills++ % children.length].pid, "SIGKILL");
  }
  calls.push(
    pool.request<number>("fib", { n: 12 }).then((value) => {
      assert.equal(value, 144);
      answered++;
    }, (error) => {
      assert.ok(error instanceof IpcChildExitedError, String(error));
      crashed++;
    }),
  );
  // Let calls run between kills, so that kills land on busy children.
  if (i % 50 === 49) await calls[i];
}
let timer: ReturnType<typeof setTimeout> | undefined;
await Promise.race([
  Promise.all(calls),
  new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("calls hang")), 120_000);
  }),
]);
clearTimeout(timer);
const seconds = (performance.now() - start) / 1000;
assert.equal(answered + crashed, total, "every call settled");
assert.ok(crashed <= 2 * kills, "at most 2 calls lost per kill");
const stats = pool.stats();
assert.equal(stats.restarts, kills);
assert.equal(stats.succeeded + stats.failed, total);
console.log(
  `${total} calls, a child killed every ${killEvery} (${kills} kills): ` +
    `${answered} answered, ${crashed} failed with IpcChildExitedError, 0 lost; ` +
    `${seconds.toFixed(1)} s; ${stats.restarts} restarts; latency p50 ${
      stats.latency.p50.toFixed(2)
    } ms, p99 ${stats.latency.p99.toFixed(1)} ms, max ${
      stats.latency.max.toFixed(1)
    } ms`,
);
