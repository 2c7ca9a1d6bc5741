/**
 * One contender of bench/pool_compare.ts: `IpcPool` with default options
 * (plus the `concurrency` and `prefetch` given).
 *
 *     deno run --allow-run --allow-env --allow-read pool_tether.ts <echo|cpu|map> [calls] [concurrency|-] [prefetch]
 *
 * Prints one JSON line: echo → `{ ms }` for `calls` echo calls submitted as
 * fast as the pool accepts them (awaiting `ready()` when `maxQueue` calls
 * wait) on 2 children; cpu → `{ ms1, ms2 }` for the fib mix on 1 and 2
 * children; map → `{ ms, seen, heapAtTenth, heapAtEnd, rss }` for `calls`
 * echo calls through `map()` (heap in use after a GC at a tenth of the
 * calls and at the end).
 *
 * @module
 */

import { IpcPool } from "../../mod.ts";

const [workload, callsArg, concurrencyArg, prefetchArg] = Deno.args;
const calls = Number(callsArg ?? 20_000);
const optional = (arg: string | undefined) =>
  arg === undefined || arg === "-" ? undefined : Number(arg);
const concurrency = optional(concurrencyArg);
const prefetch = optional(prefetchArg);
const module = new URL("./pool_tether_worker.ts", import.meta.url);
/** `gc()` when run with `--v8-flags=--expose-gc`. */
const gc = (globalThis as { gc?: () => void }).gc;
const mix = Array.from({ length: 96 }, (_, i) => 25 + (i % 6));

function makePool(size: number): IpcPool {
  return new IpcPool({ module, size, concurrency, prefetch });
}

async function echo(pool: IpcPool, count: number): Promise<number> {
  const start = performance.now();
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    if (pool.needsDrain) await pool.ready();
    all.push(pool.request("echo", { i, text: "hello" }));
  }
  await Promise.all(all);
  return performance.now() - start;
}

async function cpu(pool: IpcPool): Promise<number> {
  const start = performance.now();
  await Promise.all(mix.map((n) => pool.request("fib", { n })));
  return performance.now() - start;
}

async function* inputs(count: number) {
  for (let i = 0; i < count; i++) yield { i, text: "hello" };
}

if (workload === "echo") {
  await using pool = makePool(2);
  await echo(pool, 2000); // warm-up: start-up, JIT
  console.log(JSON.stringify({ ms: await echo(pool, calls) }));
} else if (workload === "map") {
  // Heap in use (after a full GC) when a tenth of the calls went through,
  // and at the end: flat means map() holds nothing per call.
  await using pool = makePool(2);
  for await (const _ of pool.map("echo", inputs(2000)));
  const heap = () => {
    gc?.();
    return Deno.memoryUsage().heapUsed;
  };
  const start = performance.now();
  let seen = 0;
  let heapAtTenth = 0;
  for await (const _ of pool.map("echo", inputs(calls))) {
    if (++seen === calls / 10) heapAtTenth = heap();
  }
  const ms = performance.now() - start;
  const heapAtEnd = heap();
  const rss = Deno.memoryUsage().rss;
  console.log(JSON.stringify({ ms, seen, heapAtTenth, heapAtEnd, rss }));
} else {
  await using one = makePool(1);
  await using two = makePool(2);
  await cpu(one);
  await cpu(two);
  const ms1 = await cpu(one);
  const ms2 = await cpu(two);
  console.log(JSON.stringify({ ms1, ms2 }));
}
