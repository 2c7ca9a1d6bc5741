/**
 * How much faster a pool of 2 children runs a CPU-bound call mix than a pool
 * of 1, on the same machine in the same run: both pools are started up
 * front, then rounds alternate between them (1, 2, 1, 2, …) so that noise
 * from other processes hits both alike. Prints each round, with the CPU
 * time the pool's processes spent (the same work costing more CPU means the
 * cores ran slower: contention on the host, which `/proc` inside this VM
 * does not show) and the CPU that other processes took meanwhile (read
 * from `/proc`: a 2-core machine
 * with another benchmark running has one core left, and no pool can be 2×
 * faster there), then the median and spread of the times and of the
 * per-round speedup, over all rounds and over the quiet ones.
 *
 *     deno run --allow-run --allow-env --allow-read bench/pool_bench.ts [quietRounds]
 *
 * @module
 */

import { IpcPool } from "../mod.ts";
import { cpuSample, otherCores, spread } from "./stats.ts";

/** How many quiet rounds to measure. */
const rounds = Number(Deno.args[0] ?? 7);
const worker = new URL("../tests/fixtures/pool_worker.ts", import.meta.url);
/** The call mix: fib of 25 to 30, 16 of each, interleaved the same way every round. */
const mix = Array.from({ length: 96 }, (_, i) => 25 + (i % 6));

/**
 * Wall time of the mix, the CPU time the parent and children spent on it,
 * and the cores' worth of CPU other processes took meanwhile.
 */
async function run(
  pool: IpcPool,
): Promise<{ ms: number; cpuMs: number; others: number }> {
  const pids = [Deno.pid, ...pool.stats().children.map((child) => child.pid)];
  const before = cpuSample(pids);
  const start = performance.now();
  await Promise.all(mix.map((n) => pool.request("fib", { n })));
  const ms = performance.now() - start;
  const after = cpuSample(pids);
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return {
    ms,
    cpuMs: (after.ours - before.ours) * tick,
    others: otherCores(before, after),
  };
}

await using one = new IpcPool({ module: worker, size: 1, maxQueue: 100 });
await using two = new IpcPool({ module: worker, size: 2, maxQueue: 100 });
// Warm up: start-up, JIT, caches.
for (let i = 0; i < 2; i++) {
  await run(one);
  await run(two);
}

/** A round is quiet when other processes took under this many cores' worth of CPU. */
const QUIET = 0.25;
const times1: number[] = [];
const times2: number[] = [];
const speedups: number[] = [];
const quiet: number[] = [];
// Other benchmarks share this machine: go on until `rounds` quiet rounds
// were seen (or four times as many rounds ran), and report both.
for (
  let round = 1;
  quiet.length < rounds && round <= 4 * rounds;
  round++
) {
  const a = await run(one);
  const b = await run(two);
  const speedup = a.ms / b.ms;
  times1.push(a.ms);
  times2.push(b.ms);
  speedups.push(speedup);
  const others = Math.max(a.others, b.others);
  if (others < QUIET) quiet.push(speedup);
  console.log(
    `round ${round}: 1 child ${a.ms.toFixed(0)} ms, 2 children ${
      b.ms.toFixed(0)
    } ms, speedup ${
      speedup.toFixed(2)
    }× (CPU of the pool's processes: ${a.cpuMs} / ${b.cpuMs} ms; other processes: ${
      a.others.toFixed(2)
    } / ${b.others.toFixed(2)} cores)`,
  );
}
console.log(
  `\n${mix.length} fib calls (n = 25…30) per round, ${speedups.length} rounds, alternating:`,
);
console.log(`  1 child:    ${spread(times1, 0)} ms`);
console.log(`  2 children: ${spread(times2, 0)} ms`);
console.log(`  speedup:    ${spread(speedups, 2)} × (all rounds)`);
console.log(
  quiet.length === 0
    ? `  speedup:    no quiet round (other processes under ${QUIET} cores)`
    : `  speedup:    ${
      spread(quiet, 2)
    } × (${quiet.length} quiet rounds: other processes under ${QUIET} cores)`,
);
