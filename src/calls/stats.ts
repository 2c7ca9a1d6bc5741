/**
 * The call figures in `stats()`: their shapes, and
 * {@linkcode LatencyHistogram}, the fixed-size histogram of call latencies.
 *
 * @module
 */

/**
 * Latency of calls, in milliseconds, from a histogram of fixed size (each
 * percentile is exact to within ±1%).
 *
 * @example Read the latency of the calls a stream made
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * const { count, p50, p99 } = caller.stats().calls.latency;
 * console.log(`${count} call(s): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcLatencyStats {
  /** Calls measured. */
  count: number;
  /** Mean latency. */
  mean: number;
  /** Median latency. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Slowest call. */
  max: number;
}

/**
 * Calls on one channel, in both directions.
 *
 * @example Calls made by one end, handled by the other
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * console.log(caller.stats().calls.succeeded, callee.stats().calls.handled); // 1 1
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcCallStats {
  /** Calls this end made that still wait for their answer. */
  inFlight: number;
  /** Calls this end made that got a result. */
  succeeded: number;
  /**
   * Calls this end made that failed: an error from the peer, a timeout, a
   * value that could not be sent, or the channel closing first.
   */
  failed: number;
  /**
   * Calls this end cancelled itself, which are not failures: their signal
   * aborted, or a stream's loop left early (`break`, `return`, a throw).
   */
  cancelled: number;
  /** Calls from the peer whose handler is running. */
  handling: number;
  /** Calls from the peer waiting for a place under `maxConcurrentCalls`. */
  waiting: number;
  /** Calls from the peer answered with a result. */
  handled: number;
  /** Calls from the peer answered with an error (including unknown methods). */
  handlerErrors: number;
  /**
   * Calls from the peer that it cancelled while their handler ran, or while
   * they waited for a place (they never ran then): its signal, its loop
   * leaving a stream, or its timeout (this end cannot tell which). They
   * count in neither `handled` nor `handlerErrors`.
   */
  peerCancelled: number;
  /**
   * Latency of the calls this end made, from `request()` to the answer
   * (result or error; timeouts and aborts are not measured).
   */
  latency: IpcLatencyStats;
}

/** The call figures of a stream that never made or handled a call. */
export function noCallStats(): IpcCallStats {
  return {
    inFlight: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    handling: 0,
    waiting: 0,
    handled: 0,
    handlerErrors: 0,
    peerCancelled: 0,
    latency: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 },
  };
}

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
