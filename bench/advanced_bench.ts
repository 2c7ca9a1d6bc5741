/**
 * Binary data with `serialization: "advanced"` against the same bytes as a
 * JSON string: round trips of a 64 MiB `Uint8Array` through an advanced-mode
 * echo child, alternating with round trips of a 64 MiB string through a JSON
 * echo child, in one run (`deno task bench:advanced`).
 *
 * @module
 */

import { spawnWithIpc } from "../mod.ts";
import { median, spread } from "./stats.ts";

const SIZE = 64 * 1024 * 1024;
const ROUNDS = Number(Deno.args[0] ?? 5);
const fixture = (name: string) =>
  new URL(`../tests/fixtures/${name}`, import.meta.url).pathname;

await using advanced = spawnWithIpc(Deno.execPath(), {
  args: ["run", fixture("advanced_echo_child.ts")],
  serialization: "advanced",
});
await using json = spawnWithIpc(Deno.execPath(), {
  args: ["run", fixture("echo_child.ts")],
});

const bytes = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 4096) bytes[i] = i / 4096;
const text = "b".repeat(SIZE);

async function roundTrip(
  channel: typeof advanced.ipc,
  message: unknown,
): Promise<number> {
  const start = performance.now();
  await channel.send(message);
  await channel.receive();
  return performance.now() - start;
}

const advancedMs: number[] = [];
const jsonMs: number[] = [];
await roundTrip(advanced.ipc, bytes.subarray(0, 1024 * 1024)); // warm-up
await roundTrip(json.ipc, text.slice(0, 1024 * 1024));
for (let round = 1; round <= ROUNDS; round++) {
  advancedMs.push(await roundTrip(advanced.ipc, bytes));
  jsonMs.push(await roundTrip(json.ipc, text));
  console.log(
    `round ${round}/${ROUNDS}: Uint8Array (advanced) ${
      advancedMs.at(-1)!.toFixed(0)
    } ms, ` +
      `string (json) ${jsonMs.at(-1)!.toFixed(0)} ms`,
  );
}
const ratios = jsonMs.map((ms, i) => ms / advancedMs[i]);
console.log(`\n64 MiB round trip, ${ROUNDS} rounds alternating:`);
console.log(`  Uint8Array, advanced: ${spread(advancedMs, 0)} ms`);
console.log(`  string, json:         ${spread(jsonMs, 0)} ms`);
console.log(
  `  advanced is ${median(ratios).toFixed(1)}× faster (per-round ratios ${
    spread(ratios, 1)
  })`,
);
await advanced.ipc.close();
await json.ipc.close();
