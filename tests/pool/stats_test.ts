// IpcPool.stats() with real children: wait-time and run-time histograms,
// utilization, per-child calls, and restarts and retirements by cause.
import assert from "node:assert/strict";
import { IpcPool } from "../../mod.ts";
import { fixture, within } from "../helpers.ts";

Deno.test("stats() reports wait and run times, utilization, per-child calls and starts", async () => {
  await using workers = new IpcPool({
    module: fixture("pool_worker.ts"),
    size: 1,
    maxCallsPerChild: 4,
  });
  const idle = workers.stats();
  assert.equal(idle.waitTime.count, 0);
  assert.equal(idle.utilization >= 0 && idle.utilization <= 1, true);
  // One child: the later calls wait while the earlier ones run.
  await within(
    Promise.all([1, 2, 3].map(() => workers.request("sleep", { ms: 50 }))),
    "the calls",
  );
  const stats = workers.stats();
  assert.equal(stats.waitTime.count, 3);
  assert.equal(stats.runTime.count, 3);
  assert.equal(stats.latency.count, 3);
  for (const histogram of [stats.waitTime, stats.runTime, stats.latency]) {
    assert.ok(histogram.p50 <= histogram.p90);
    assert.ok(histogram.p90 <= histogram.p99);
    assert.ok(histogram.p99 <= histogram.max);
  }
  assert.ok(stats.waitTime.max > 0, "the queued calls waited");
  assert.ok(stats.runTime.max >= stats.runTime.p50 && stats.runTime.p50 > 0);
  assert.ok(stats.utilization > 0 && stats.utilization <= 1);
  assert.equal(stats.children.length, 1);
  assert.equal(stats.children[0].calls, 3);
  assert.equal(stats.size, 1);
  assert.deepEqual(
    [stats.starts, stats.restarts, stats.idleExits],
    [1, 0, 0],
  );
  assert.deepEqual(stats.retirements, {
    maxCalls: 0,
    memory: 0,
    timeout: 0,
    abandoned: 0,
    idle: 0,
  });
  await workers.request("pid");
  assert.equal(workers.stats().retirements.maxCalls, 1);
  assert.equal(workers.stats().starts, 2);
});
