/**
 * `IpcPool` side by side with the pools people use, in one run on one
 * machine: Python's `ProcessPoolExecutor`, tinypool (`child_process` and
 * threads), workerpool (`process`) and piscina (threads: no process
 * boundary, the in-process reference).
 *
 * Each round runs every contender once, as its own process, in an order
 * rotated per round, so noise from other processes hits all alike; the
 * medians over rounds are reported, with ratios. Workloads, 2 workers each,
 * default options (IpcPool also with `prefetch: 0`, what it was before
 * prefetch, and with `concurrency: 8`):
 *
 * - echo: 20,000 echo calls of a small object submitted as fast as the pool
 *   takes them (after a 2,000-call warm-up), calls/s;
 * - cpu: a mix of 96 fib(25…30) calls on 1 and on 2 workers: the speedup
 *   (Python is left out: CPython runs fib ~50× slower, a different load);
 * - map (IpcPool only): `mapCalls` echo calls through `map()`, the
 *   parent's heap in use (after a GC) at a tenth of them and at the end.
 *
 *     npm ci --prefix bench/peers
 *     deno run --allow-run --allow-env --allow-read bench/pool_compare.ts [rounds] [mapCalls]
 *
 * @module
 */

import { median } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? 5);
const mapCalls = Number(Deno.args[1] ?? 1_000_000);
const peers = new URL("./peers/", import.meta.url).pathname;
const deno = Deno.execPath();
const denoFlags = ["run", "--allow-run", "--allow-env", "--allow-read"];

interface Contender {
  name: string;
  command: string;
  args: (workload: string) => string[];
  cpu: boolean;
}

const contenders: Contender[] = [
  {
    name: "IpcPool (defaults)",
    command: deno,
    args: (w) => [...denoFlags, `${peers}pool_tether.ts`, w],
    cpu: true,
  },
  {
    name: "IpcPool (prefetch 0)",
    command: deno,
    args: (w) => [...denoFlags, `${peers}pool_tether.ts`, w, "20000", "-", "0"],
    cpu: true,
  },
  {
    name: "IpcPool (concurrency 8)",
    command: deno,
    args: (w) => [...denoFlags, `${peers}pool_tether.ts`, w, "20000", "8"],
    cpu: false,
  },
  ...["piscina", "tinypool-threads", "tinypool-process", "workerpool-process"]
    .map((kind) => ({
      name: kind,
      command: "node",
      args: (w: string) => [`${peers}pool_node.mjs`, kind, w],
      cpu: true,
    })),
  {
    name: "ProcessPoolExecutor",
    command: "python3",
    args: (w) => [`${peers}pool_python.py`, w],
    cpu: false,
  },
];

async function run(
  command: string,
  args: string[],
): Promise<Record<string, number>> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout).trim();
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${code}): ${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

const echo = new Map<string, number[]>();
const speedup = new Map<string, number[]>();
const cpuMs = new Map<string, number[]>();
const started = performance.now();
for (let round = 0; round < rounds; round++) {
  const order = contenders.map((_, i) =>
    contenders[(i + round) % contenders.length]
  );
  for (const contender of order) {
    const { ms } = await run(contender.command, contender.args("echo"));
    const rate = 20_000 / (ms / 1000);
    echo.set(contender.name, [...(echo.get(contender.name) ?? []), rate]);
    console.error(
      `round ${round + 1} echo ${contender.name}: ${rate.toFixed(0)}/s`,
    );
  }
  for (const contender of order.filter((c) => c.cpu)) {
    const { ms1, ms2 } = await run(contender.command, contender.args("cpu"));
    speedup.set(contender.name, [
      ...(speedup.get(contender.name) ?? []),
      ms1 / ms2,
    ]);
    cpuMs.set(contender.name, [...(cpuMs.get(contender.name) ?? []), ms2]);
    console.error(
      `round ${round + 1} cpu ${contender.name}: ${ms1.toFixed(0)} / ${
        ms2.toFixed(0)
      } ms`,
    );
  }
}
const map = await run(deno, [
  ...denoFlags,
  "--v8-flags=--expose-gc",
  `${peers}pool_tether.ts`,
  "map",
  String(mapCalls),
]);
const seconds = (performance.now() - started) / 1000;

const ours = median(echo.get("IpcPool (defaults)")!);
const fmt = (value: number) => Math.round(value).toLocaleString("en-US");
console.log(`rounds: ${rounds}, run time ${seconds.toFixed(0)} s\n`);
console.log(
  "| pool (2 workers) | echo calls/s (median) | min – max | IpcPool (defaults) ÷ it | cpu speedup 2 vs 1 | cpu mix, 2 workers, ms |",
);
console.log("|---|---:|---:|---:|---:|---:|");
for (const { name } of contenders) {
  const rates = echo.get(name)!;
  const speedups = speedup.get(name);
  const times = cpuMs.get(name);
  console.log(
    `| ${name} | ${fmt(median(rates))} | ${fmt(Math.min(...rates))} – ${
      fmt(Math.max(...rates))
    } | ${(ours / median(rates)).toFixed(2)}× | ${
      speedups ? `${median(speedups).toFixed(2)}×` : "—"
    } | ${times ? fmt(median(times)) : "—"} |`,
  );
}
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
console.log(
  `\nmap(): ${fmt(map.seen)} echo calls in ${(map.ms / 1000).toFixed(1)} s (${
    fmt(map.seen / (map.ms / 1000))
  }/s); the parent's heap in use after a GC: ${
    mib(map.heapAtTenth)
  } MiB after a tenth of the calls, ${mib(map.heapAtEnd)} MiB after all (RSS ${
    mib(map.rss)
  } MiB).`,
);
