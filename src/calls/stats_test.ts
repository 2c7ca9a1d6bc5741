import assert from "node:assert/strict";
import { LatencyHistogram } from "./stats.ts";

/** `true` when `actual` is within ±1% (and a rounding hair) of `expected`. */
function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= expected * 0.0101;
}

Deno.test("LatencyHistogram gives percentiles within 1% in fixed memory", () => {
  const histogram = new LatencyHistogram();
  // 1..10,000 ms, shuffled: order must not matter.
  const samples = Array.from({ length: 10_000 }, (_, i) => i + 1);
  for (let i = samples.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [samples[i], samples[j]] = [samples[j], samples[i]];
  }
  for (const ms of samples) histogram.record(ms);
  const summary = histogram.summary();
  assert.equal(summary.count, 10_000);
  assert.ok(near(summary.p50, 5000), `p50 ${summary.p50}`);
  assert.ok(near(summary.p90, 9000), `p90 ${summary.p90}`);
  assert.ok(near(summary.p99, 9900), `p99 ${summary.p99}`);
  assert.equal(summary.max, 10_000);
  assert.ok(near(summary.mean, 5000.5));
});

Deno.test("LatencyHistogram handles sub-microsecond, skewed and empty samples", () => {
  const empty = new LatencyHistogram().summary();
  assert.deepEqual(empty, {
    count: 0,
    mean: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    max: 0,
  });
  const histogram = new LatencyHistogram();
  for (let i = 0; i < 98; i++) histogram.record(0.0001);
  histogram.record(2);
  histogram.record(40_000_000); // beyond the last bucket: counted there
  const summary = histogram.summary();
  assert.ok(summary.p50 < 0.001);
  assert.ok(near(summary.p99, 2), `p99 ${summary.p99}`);
  assert.equal(summary.max, 40_000_000);
  assert.equal(histogram.percentile(1), 40_000_000);
});
