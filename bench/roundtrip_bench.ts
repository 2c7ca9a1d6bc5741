/**
 * Round-trip and throughput benchmarks for `deno bench` (`deno task bench`):
 * a parent and one echo child, the way a user would use the library. Runs in
 * seconds. For the side-by-side comparison with Deno's built-in IPC, Node and
 * Bun, run `deno task bench:compare`.
 *
 * @module
 */

import { spawnWithIpc } from "../mod.ts";

const child = spawnWithIpc(Deno.execPath(), {
  args: [
    "run",
    new URL("../tests/fixtures/echo_child.ts", import.meta.url).pathname,
  ],
});
// Let `deno bench` exit when the benchmarks are done; the child then sees the
// channel close and exits too.
child.unref();

const small = { i: 0, s: "hello world" };
const oneMiB = "x".repeat(1024 * 1024);

Deno.bench("round trip of a small message", {
  group: "round trip",
  baseline: true,
}, async () => {
  await child.ipc.send(small);
  await child.ipc.receive();
});

Deno.bench(
  "round trip of a 64 KiB message",
  { group: "round trip" },
  async () => {
    await child.ipc.send(oneMiB.slice(0, 64 * 1024));
    await child.ipc.receive();
  },
);

Deno.bench("1,000 small messages there and back (pipelined)", {
  group: "throughput",
}, async () => {
  for (let i = 0; i < 1000; i++) child.ipc.send(small);
  for (let i = 0; i < 1000; i++) await child.ipc.receive();
});

Deno.bench(
  "a 1 MiB message there and back",
  { group: "throughput" },
  async () => {
    await child.ipc.send(oneMiB);
    await child.ipc.receive();
  },
);
