// One contender of bench/pool_compare.ts, run by Node.js:
//   node pool_node.mjs <piscina|tinypool-threads|tinypool-process|workerpool-process> <echo|cpu> [calls]
// Prints one JSON line: echo → { ms } for `calls` echo calls submitted at once
// on 2 workers; cpu → { ms1, ms2 } for the fib mix on 1 and on 2 workers.
// Loaded by name at run time from bench/peers/node_modules (npm ci
// --prefix bench/peers), so that `deno check bench/` does not resolve them.
const load = (name) => import(name);
const { Piscina } = await load("piscina");
const { Tinypool } = await load("tinypool");
const { default: workerpool } = await load("workerpool");

const [kind, workload, callsArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 20000);
const task = new URL("./pool_task.mjs", import.meta.url);
const workerFile = new URL("./pool_workerpool.cjs", import.meta.url).pathname;
const mix = Array.from({ length: 96 }, (_, i) => 25 + (i % 6));

function makePool(workers) {
  switch (kind) {
    case "piscina": {
      const pool = new Piscina({
        filename: task.href,
        minThreads: workers,
        maxThreads: workers,
      });
      return { run: (t) => pool.run(t), close: () => pool.destroy() };
    }
    case "tinypool-threads":
    case "tinypool-process": {
      const pool = new Tinypool({
        filename: task.href,
        minThreads: workers,
        maxThreads: workers,
        runtime: kind === "tinypool-process"
          ? "child_process"
          : "worker_threads",
      });
      return { run: (t) => pool.run(t), close: () => pool.destroy() };
    }
    case "workerpool-process": {
      const pool = workerpool.pool(workerFile, {
        minWorkers: workers,
        maxWorkers: workers,
        workerType: "process",
      });
      return {
        run: (t) =>
          t.op === "fib"
            ? pool.exec("fib", [t.n])
            : pool.exec("echo", [t.value]),
        close: () => pool.terminate(),
      };
    }
    default:
      throw new Error(`unknown pool ${kind}`);
  }
}

async function echo(pool, count) {
  const start = performance.now();
  const all = [];
  for (let i = 0; i < count; i++) {
    all.push(pool.run({ op: "echo", value: { i, text: "hello" } }));
  }
  await Promise.all(all);
  return performance.now() - start;
}

async function cpu(pool) {
  const start = performance.now();
  await Promise.all(mix.map((n) => pool.run({ op: "fib", n })));
  return performance.now() - start;
}

if (workload === "echo") {
  const pool = makePool(2);
  await echo(pool, 2000); // warm-up: start-up, JIT
  const ms = await echo(pool, calls);
  await pool.close();
  console.log(JSON.stringify({ ms }));
} else {
  const one = makePool(1);
  const two = makePool(2);
  await cpu(one);
  await cpu(two);
  const ms1 = await cpu(one);
  const ms2 = await cpu(two);
  await one.close();
  await two.close();
  console.log(JSON.stringify({ ms1, ms2 }));
}
process.exit(0);
