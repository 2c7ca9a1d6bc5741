/**
 * The cost of a call: sequential `request()` round trips against raw
 * `send()` + `receive()` round trips of the same small message over the same
 * channel to the same child, alternating blocks of each within every round.
 * Prints each round, then the median and spread of both rates and of their
 * ratio.
 *
 *     deno run --allow-run --allow-env --allow-read bench/calls_bench.ts [rounds] [tripsPerRound]
 *
 * @module
 */

import { spawnWithIpc } from "../mod.ts";
import { spread } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? 7);
const trips = Number(Deno.args[1] ?? 10_000);
const message = { i: 0, s: "hello world" };

await using child = spawnWithIpc(Deno.execPath(), {
  args: [
    "run",
    new URL("../tests/fixtures/rpc_echo_child.ts", import.meta.url).pathname,
  ],
});
const ipc = child.ipc;

/** Seconds taken by `count` raw round trips. */
async function raw(count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    await ipc.send(message);
    await ipc.receive();
  }
  return (performance.now() - start) / 1000;
}

/** Seconds taken by `count` calls. */
async function calls(count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await ipc.request("echo", message);
  return (performance.now() - start) / 1000;
}

// Warm up both paths in both processes.
await raw(trips);
await calls(trips);

// Each round alternates blocks of 500 round trips of each kind, so load
// from other processes, which changes over seconds, hits both alike.
const block = 500;
const rawRates: number[] = [];
const callRates: number[] = [];
const ratios: number[] = [];
for (let round = 1; round <= rounds; round++) {
  let rawSeconds = 0;
  let callSeconds = 0;
  for (let done = 0; done < trips; done += block) {
    if ((done / block) % 2 === 0) {
      rawSeconds += await raw(block);
      callSeconds += await calls(block);
    } else {
      callSeconds += await calls(block);
      rawSeconds += await raw(block);
    }
  }
  const r = trips / rawSeconds;
  const c = trips / callSeconds;
  rawRates.push(r);
  callRates.push(c);
  ratios.push(c / r);
  console.log(
    `round ${round}: raw ${Math.round(r)} rt/s, request() ${
      Math.round(c)
    } calls/s, ratio ${(c / r).toFixed(3)}`,
  );
}
console.log(
  `\n${trips} sequential round trips of ${
    JSON.stringify(message)
  } per round, ${rounds} rounds:`,
);
console.log(`  raw send+receive: ${spread(rawRates, 0)} round trips/s`);
console.log(`  request():        ${spread(callRates, 0)} calls/s`);
console.log(`  request() / raw:  ${spread(ratios, 3)}`);
await ipc.close();
