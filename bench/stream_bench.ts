/**
 * Streaming calls against plain messages, and typed calls against
 * `request()`, over the same channel to the same child
 * (`tests/fixtures/stream_child.ts`), alternating within every round:
 *
 * - one `stream("items", { n })` call: the child's generator yields `n` small
 *   objects (`{ i, s: "hello world" }`), consumed by `for await` in the
 *   parent; against the child sending the same `n` objects as plain
 *   messages, read with `receive()`; which goes first alternates by round.
 * - sequential `api.echo(message)` through `remote<typeof handlers>()`
 *   against `request("echo", message)`, in alternating blocks.
 *
 * Prints each round, then the median and spread of the rates and ratios.
 *
 *     deno run --allow-run --allow-env --allow-read bench/stream_bench.ts [rounds] [items] [highWaterMark]
 *
 * @module
 */

import { spawnWithIpc } from "../mod.ts";
import type { handlers } from "../tests/fixtures/stream_child.ts";
import { spread } from "./stats.ts";

const rounds = Number(Deno.args[0] ?? 7);
const items = Number(Deno.args[1] ?? 200_000);
const highWaterMark = Deno.args[2] === undefined
  ? undefined
  : Number(Deno.args[2]);
const calls = 10_000;
const message = { i: 0, s: "hello world" };

await using child = spawnWithIpc(Deno.execPath(), {
  args: [
    "run",
    new URL("../tests/fixtures/stream_child.ts", import.meta.url).pathname,
  ],
});
const ipc = child.ipc;
const api = ipc.remote<typeof handlers>();

/** Seconds to receive `n` items through a streaming call. */
async function streamed(n: number): Promise<number> {
  const start = performance.now();
  let count = 0;
  for await (const _ of api.items({ n }, { highWaterMark })) count++;
  if (count !== n) throw new Error(`got ${count} items, not ${n}`);
  return (performance.now() - start) / 1000;
}

/** Seconds to receive `n` plain messages. */
async function plain(n: number): Promise<number> {
  const start = performance.now();
  await ipc.send({ flood: n });
  for (let i = 0; i < n; i++) await ipc.receive();
  return (performance.now() - start) / 1000;
}

/** Seconds taken by `n` sequential calls, typed or not. */
async function sequential(n: number, typed: boolean): Promise<number> {
  const start = performance.now();
  if (typed) { for (let i = 0; i < n; i++) await api.echo(message); }
  else for (let i = 0; i < n; i++) await ipc.request("echo", message);
  return (performance.now() - start) / 1000;
}

// Warm up every path in both processes.
await streamed(items / 4);
await plain(items / 4);
await sequential(calls / 4, true);
await sequential(calls / 4, false);

const block = 500;
const streamRates: number[] = [];
const plainRates: number[] = [];
const streamRatios: number[] = [];
const typedRatios: number[] = [];
for (let round = 1; round <= rounds; round++) {
  // One stream of all the items, and as many plain messages, in the order
  // that alternates from round to round.
  let s = 0;
  let p = 0;
  if (round % 2 === 1) {
    s = await streamed(items);
    p = await plain(items);
  } else {
    p = await plain(items);
    s = await streamed(items);
  }
  let typedSeconds = 0;
  let untypedSeconds = 0;
  for (let done = 0; done < calls; done += block) {
    if ((done / block) % 2 === 0) {
      typedSeconds += await sequential(block, true);
      untypedSeconds += await sequential(block, false);
    } else {
      untypedSeconds += await sequential(block, false);
      typedSeconds += await sequential(block, true);
    }
  }
  streamRates.push(items / s);
  plainRates.push(items / p);
  streamRatios.push(p / s);
  typedRatios.push(untypedSeconds / typedSeconds);
  console.log(
    `round ${round}: stream ${Math.round(items / s)} items/s, plain ${
      Math.round(items / p)
    } msg/s, stream/plain ${(p / s).toFixed(3)}; typed/request() ${
      (untypedSeconds / typedSeconds).toFixed(3)
    }`,
  );
}
console.log(
  `\n${items} items of ${JSON.stringify(message)} per round, highWaterMark ${
    highWaterMark ?? "default"
  }, ${rounds} rounds:`,
);
console.log(`  stream():          ${spread(streamRates, 0)} items/s`);
console.log(`  plain messages:    ${spread(plainRates, 0)} messages/s`);
console.log(`  stream / plain:    ${spread(streamRatios, 3)}`);
console.log(
  `  typed / request(): ${
    spread(typedRatios, 3)
  } (${calls} sequential echo calls of each per round)`,
);
await ipc.close();
