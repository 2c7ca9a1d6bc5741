/**
 * The pool demo: starts a pool of workers running `pool_worker.ts`, spreads
 * CPU-bound calls over them, shows what errors, timeouts and a crashed
 * child look like, prints the pool's figures, and closes it.
 *
 * Run with `deno task demo:pool`, or:
 *
 *     deno run --allow-run --allow-env examples/pool.ts
 *
 * @module
 */

import {
  IpcChildExitedError,
  IpcPool,
  IpcRemoteError,
  IpcTimeoutError,
} from "@tether/ipc";

type Fib = { n: number; fib: number; pid: number };

const size = Math.max(2, navigator.hardwareConcurrency);
// The workers get no permission flags, so they run with none.
await using pool = new IpcPool({
  module: new URL("./pool_worker.ts", import.meta.url),
  size,
});
console.log(
  `pool of ${size} children:`,
  pool.stats().children.map((child) => child.pid).join(", "),
);

const ns = [30, 29, 28, 27, 30, 29, 28, 27];
const start = performance.now();
const answers = await Promise.all(
  ns.map((n) => pool.request<Fib>("fib", { n })),
);
const seconds = (performance.now() - start) / 1000;
for (const { n, fib, pid } of answers) {
  console.log(`  fib(${n}) = ${fib}, computed by ${pid}`);
}
console.log(`${ns.length} calls in ${seconds.toFixed(2)} s`);

console.log(
  "sha256('tether') =",
  await pool.request("sha256", { text: "tether" }),
);

try {
  await pool.request("divide", { a: 1, b: 0 });
} catch (error) {
  if (!(error instanceof IpcRemoteError)) throw error;
  console.log(
    `divide failed in the child: ${error.remoteName}: ${error.remoteMessage}`,
    error.data,
  );
}

try {
  await pool.request("sleep", { ms: 10_000 }, { timeout: 100 });
} catch (error) {
  if (!(error instanceof IpcTimeoutError)) throw error;
  console.log(`sleep timed out after ${error.timeout} ms; the child stopped`);
}

// Kill a child in the middle of a call: the call fails with the child's
// pid and signal, the pool starts a replacement and keeps serving.
const doomed = pool.request("sleep", { ms: 10_000 });
let busy;
while (
  (busy = pool.stats().children.find((c) => c.inFlight > 0)) === undefined
) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
Deno.kill(busy.pid, "SIGKILL");
try {
  await doomed;
} catch (error) {
  if (!(error instanceof IpcChildExitedError)) throw error;
  console.log(`crash: ${error.message}`);
}
console.log(
  "after the crash:",
  pool.stats().children.map((child) => child.pid).join(", "),
  "→",
  (await pool.request<Fib>("fib", { n: 20 })).fib,
);

const stats = pool.stats();
console.log(
  `stats: ${stats.succeeded} succeeded, ${stats.failed} failed, ${stats.restarts} restart(s), ` +
    `${stats.messagesOut} messages out, ${stats.messagesIn} in; ` +
    `latency p50 ${stats.latency.p50.toFixed(1)} ms, p99 ${
      stats.latency.p99.toFixed(1)
    } ms`,
);
// `await using` drains the pool here: the children exit.
