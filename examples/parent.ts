/**
 * The demo: starts `child.ts` with a channel, exchanges a few messages,
 * measures the round-trip rate, and shows how the child ended.
 *
 * Run with `deno task demo`, or:
 *
 *     deno run --allow-run --allow-env examples/parent.ts
 *
 * @module
 */

import { spawnWithIpc } from "@tether/ipc";

type Request =
  | { op: "add"; a: number; b: number }
  | { op: "ping"; n: number }
  | { op: "bye" };
type Reply = { sum: number } | { pong: number } | { ready: true; pid: number };

const childScript = new URL("./child.ts", import.meta.url).pathname;

// The child gets no permission flags, so it runs with none.
await using child = spawnWithIpc<Reply, Request>(Deno.execPath(), {
  args: ["run", childScript],
});

console.log(`parent ${Deno.pid} started child ${child.pid}`);
console.log("child says:", await child.ipc.receive());

await child.ipc.send({ op: "add", a: 2, b: 40 });
console.log("2 + 40, answered by the child:", await child.ipc.receive());

const roundTrips = 20_000;
const start = performance.now();
for (let n = 0; n < roundTrips; n++) {
  await child.ipc.send({ op: "ping", n });
  const reply = await child.ipc.receive();
  if (!("pong" in reply) || reply.pong !== n) {
    throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  }
}
const seconds = (performance.now() - start) / 1000;
console.log(
  `${roundTrips} sequential round trips in ${seconds.toFixed(2)} s: ` +
    `${Math.round(roundTrips / seconds).toLocaleString("en-US")} round trips/s`,
);

await child.ipc.send({ op: "bye" });
await child.ipc.closed;
console.log("child exited:", await child.status);
