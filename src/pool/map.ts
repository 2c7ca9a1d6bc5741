/**
 * {@linkcode mapCalls}: `IpcPool.map()` — one call per input, a bounded
 * number at a time, reading inputs only as fast as results are consumed.
 *
 * @module
 */

import type { IpcPoolRequestOptions } from "./options.ts";

/**
 * Options of {@linkcode IpcPool.map}.
 *
 * @example Four at a time, results as they come
 * ```ts ignore
 * import { IpcPool, type IpcPoolMapOptions } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
 * const options: IpcPoolMapOptions = { concurrency: 4, ordered: false, timeout: 5000 };
 * for await (const size of pool.map("thumbnail", ["a.png", "b.png"], options)) console.log(size);
 * ```
 */
export interface IpcPoolMapOptions extends IpcPoolRequestOptions {
  /**
   * Inputs read and not yet consumed as results, at most: calls running,
   * queued, or answered and waiting for their turn (like the `buffersize`
   * of Python's `Executor.map`).
   *
   * @default {twice the pool's capacity: maxSize × its concurrency × 2}
   */
  concurrency?: number;
  /**
   * Yield results in the order of the inputs; `false` yields each as soon
   * as it is answered.
   *
   * @default {true}
   */
  ordered?: boolean;
}

/** What {@linkcode mapCalls} needs of a pool. */
export interface MapTarget {
  /** Makes one call. */
  request(
    method: string,
    params: unknown,
    options: IpcPoolRequestOptions,
  ): Promise<unknown>;
  /** Resolves when a call would not be refused for a full queue. */
  ready(): Promise<void>;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Calls `method` with each input; see `IpcPool.map()`.
 *
 * @param pool The pool.
 * @param method The method.
 * @param inputs The params of each call.
 * @param concurrency Inputs read and not yet yielded, at most.
 * @param options The calls' options and `ordered`.
 */
export async function* mapCalls<R>(
  pool: MapTarget,
  method: string,
  inputs: Iterable<unknown> | AsyncIterable<unknown>,
  concurrency: number,
  options: IpcPoolMapOptions,
): AsyncGenerator<R, void, undefined> {
  const { ordered = true, concurrency: _, signal, ...callOptions } = options;
  signal?.throwIfAborted();
  const controller = new AbortController();
  let failure: Outcome | undefined;
  let wake: PromiseWithResolvers<void> | undefined;
  const onAbort = () => {
    failure ??= { ok: false, error: signal?.reason };
    controller.abort(signal?.reason);
    wake?.resolve();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const request = { ...callOptions, signal: controller.signal };
  const iterator = Symbol.asyncIterator in inputs
    ? inputs[Symbol.asyncIterator]()
    : inputs[Symbol.iterator]();
  /** Answers not yet yielded, by input index. */
  const results = new Map<number, unknown>();
  let read = 0;
  let yielded = 0;
  let exhausted = false;
  try {
    while (true) {
      while (
        !exhausted && failure === undefined && read - yielded < concurrency
      ) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        const index = read++;
        await pool.ready();
        pool.request(method, step.value, request).then(
          (value) => settle(index, { ok: true, value }),
          (error) => settle(index, { ok: false, error }),
        );
      }
      if (failure !== undefined && !failure.ok) throw failure.error;
      if (exhausted && yielded === read) return;
      const next = ordered ? yielded : results.keys().next().value;
      if (next === undefined || !results.has(next)) {
        wake = Promise.withResolvers<void>();
        await wake.promise;
        continue;
      }
      const value = results.get(next);
      results.delete(next);
      yielded++;
      yield value as R;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Cancels the calls still queued or running; their outcomes are dropped.
    controller.abort();
    if (!exhausted) await iterator.return?.();
  }

  function settle(index: number, outcome: Outcome): void {
    if (controller.signal.aborted) return;
    if (!outcome.ok) failure ??= outcome;
    else results.set(index, outcome.value);
    wake?.resolve();
  }
}
