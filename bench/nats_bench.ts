/**
 * Calls through NATS against the bare NATS client and against `IpcPool`, on
 * the same machine in the same run: echo calls of a small JSON payload,
 * sequential and 64 in flight, with 1 and 2 worker processes. The cases
 * alternate within each round so noise hits them alike; prints the median
 * calls/s of each with its spread (min–max) over the rounds, the library's
 * ratio to the bare client, and its overhead per sequential call in µs.
 *
 * - bare NATS: `nc.request("bare.echo", bytes)` answered by a queue
 *   subscription that responds with the same bytes (no JSON on the worker);
 * - tether NATS: `connectNatsCalls().request("echo", params)` answered by
 *   `serveNatsCalls({ echo })`;
 * - IpcPool: `pool.request("echo", params)` to children running
 *   `serveParentCalls({ echo })`, no NATS.
 *
 *     deno run --allow-net --allow-run --allow-env --allow-read bench/nats_bench.ts [rounds]
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { IpcPool } from "../mod.ts";
import { connectNatsCalls } from "../nats.ts";
import { startNatsServer } from "../tests/nats/nats_server.ts";
import { median, spread } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? 5);
const SEQUENTIAL = 2000;
const PARALLEL = 10_000;
const IN_FLIGHT = 64;
const params = { i: 0, s: "hello world" };
const bytes = new TextEncoder().encode(JSON.stringify(params));
const workerScript = new URL("./nats_bench_worker.ts", import.meta.url);

await using server = await startNatsServer();

/** Starts worker processes of `mode`; resolves once they serve. */
async function startWorkers(mode: string, count: number) {
  const processes: Deno.ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net",
        workerScript.pathname,
        mode,
        server.url,
      ],
      stdout: "piped",
    }).spawn();
    const reader = process.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    await reader.read();
    reader.releaseLock();
    processes.push(process);
  }
  return {
    async [Symbol.asyncDispose]() {
      for (const process of processes) {
        process.kill("SIGKILL");
        await process.status;
        await process.stdout.cancel().catch(() => {});
      }
    },
  };
}

/** Calls/s of `count` calls made `inFlight` at a time. */
async function rate(
  call: () => Promise<unknown>,
  count: number,
  inFlight: number,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next++ < count) await call();
  }));
  return count / ((performance.now() - start) / 1000);
}

const nc = await connect({ servers: server.url });
await using calls = await connectNatsCalls({
  servers: server.url,
  service: "bench",
});
const cases: Record<string, () => Promise<unknown>> = {
  "bare NATS": () => nc.request("bare.echo", bytes, { timeout: 10_000 }),
  "tether NATS": () => calls.request("echo", params),
};

type Row = { name: string; workers: number; inFlight: number; rates: number[] };
const rows: Row[] = [];
for (const workers of [1, 2]) {
  await using _bare = await startWorkers("bare", workers);
  await using _tether = await startWorkers("tether", workers);
  await using pool = new IpcPool({
    module: workerScript,
    size: workers,
    args: ["child"],
  });
  const all: Record<string, () => Promise<unknown>> = {
    ...cases,
    IpcPool: () => pool.request("echo", params),
  };
  for (const [inFlight, count] of [[1, SEQUENTIAL], [IN_FLIGHT, PARALLEL]]) {
    const mine = Object.keys(all).map((name) => {
      const row = { name, workers, inFlight, rates: [] as number[] };
      rows.push(row);
      return row;
    });
    // Warm up each case, then alternate.
    for (const row of mine) await rate(all[row.name], 500, inFlight);
    for (let round = 0; round < rounds; round++) {
      for (const row of mine) {
        row.rates.push(await rate(all[row.name], count, inFlight));
      }
    }
    for (const row of mine) {
      console.error(
        `${row.name}, ${workers} worker(s), ${inFlight} in flight: ${
          spread(row.rates, 0)
        } calls/s`,
      );
    }
  }
}
await nc.close();

const find = (name: string, workers: number, inFlight: number) =>
  rows.find((r) =>
    r.name === name && r.workers === workers && r.inFlight === inFlight
  )!;
console.log(
  "| workers | in flight | bare NATS client, calls/s | tether over NATS, calls/s | tether / bare | IpcPool, calls/s | overhead per call |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const workers of [1, 2]) {
  for (const inFlight of [1, IN_FLIGHT]) {
    const bare = find("bare NATS", workers, inFlight);
    const tether = find("tether NATS", workers, inFlight);
    const pool = find("IpcPool", workers, inFlight);
    const ratios = tether.rates.map((r, i) => r / bare.rates[i]);
    const overhead = inFlight === 1
      ? `${
        (1e6 / median(tether.rates) - 1e6 / median(bare.rates)).toFixed(0)
      } µs`
      : "—";
    console.log(
      `| ${workers} | ${inFlight} | ${spread(bare.rates, 0)} | ${
        spread(tether.rates, 0)
      } | **${spread(ratios, 2)}** | ${spread(pool.rates, 0)} | ${overhead} |`,
    );
  }
}
