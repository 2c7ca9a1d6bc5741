/**
 * A member of the NATS demo: one process per machine, whose calls go to its
 * own pool of `pool_worker.ts` children (least privilege: they get no
 * permissions), so it uses every core. Prints `ready <pid> <children>` once
 * it serves, and drains on SIGTERM.
 *
 * Run by `nats.ts`, or by hand against any NATS server:
 *
 *     deno run --allow-net --allow-run --allow-env examples/nats_worker.ts nats://127.0.0.1:4222
 *
 * @module
 */

import { IpcPool } from "@tether/ipc";
import { serveNatsCalls } from "@tether/ipc/nats";

const servers = Deno.args[0] ?? "nats://127.0.0.1:4222";
await using pool = new IpcPool({
  module: new URL("./pool_worker.ts", import.meta.url),
  size: 2,
});
await using member = await serveNatsCalls(pool, {
  servers,
  service: "demo",
  methods: ["fib", "sha256", "sleep", "divide"],
  concurrency: 8,
});
Deno.addSignalListener("SIGTERM", () => member.stop());
const children = pool.stats().children.map((child) => child.pid);
console.log(`ready ${Deno.pid} ${children.join(",")}`);
await member.stopped;
