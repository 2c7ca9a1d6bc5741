/**
 * A latency histogram of fixed size: percentiles of any number of samples in
 * a few kilobytes, never an array that grows with the number of calls.
 *
 * Samples fall into buckets whose bounds grow by 2% each, from 1 µs to about
 * 6 hours, so a percentile is known to within ±1% of its value (the
 * geometric middle of its bucket is reported). Recording costs one
 * `Math.log` and one increment.
 *
 * @module
 */

import type { IpcLatencyStats } from "./stats.ts";

/** Each bucket's upper bound is this factor times its lower bound. */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket 0 holds samples under 1 µs; bucket i ≥ 1 holds [GROWTH^(i-1), GROWTH^i) µs. */
const BUCKETS = 1200;

/** Counts samples in logarithmic buckets; see the module documentation. */
export class LatencyHistogram {
  #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /**
   * Adds one sample.
   *
   * @param ms The latency in milliseconds.
   */
  record(ms: number): void {
    const micros = ms * 1000;
    const index = micros < 1
      ? 0
      : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(micros) / LOG_GROWTH));
    this.#counts[index]++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * The latency under which a fraction `q` of the samples fall.
   *
   * @param q Between 0 and 1, e.g. 0.99 for the 99th percentile.
   * @returns Milliseconds, or 0 when nothing was recorded.
   */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.#counts[index];
      if (seen >= rank) {
        // The last bucket also holds everything beyond it: its middle means nothing.
        if (index === BUCKETS - 1) return this.#max;
        const micros = index === 0 ? 0.5 : GROWTH ** (index - 0.5);
        return Math.min(micros / 1000, this.#max);
      }
    }
    return this.#max;
  }

  /** Count, mean, p50, p90, p99 and max, in milliseconds. */
  summary(): IpcLatencyStats {
    return {
      count: this.#count,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      max: this.#max,
    };
  }
}
