/**
 * The worker demo: the same channel as with a child process, to a Web
 * Worker in this process. Sends structured clones (a `Map`, a `Date`, a
 * `BigInt`), moves a 16 MiB buffer without copying it, calls the worker's
 * handlers, and shows what a worker that throws looks like.
 *
 * Run with `deno task demo:worker`, or:
 *
 *     deno run --allow-read examples/worker.ts
 *
 * (`--allow-read` lets Deno load the worker's module; a worker started
 * without `permissions` inherits this process's permissions.)
 *
 * @module
 */

import { IpcClosedError, spawnWorkerWithIpc } from "@tether/ipc";
import type { handlers } from "./worker_module.ts";

const module = new URL("./worker_module.ts", import.meta.url);

{
  await using worker = spawnWorkerWithIpc(module, { name: "demo" });

  // Structured clones: no JSON, the values arrive as they were sent.
  const inventory = new Map([["apples", 3n], ["pears", 5n]]);
  const summary = await worker.ipc.request("summarize", {
    inventory,
    at: new Date("2026-12-01T12:00:00Z"),
  });
  console.log("summary:", summary);

  // A 16 MiB buffer moves to the worker instead of being copied.
  const pixels = new Uint8Array(16 * 1024 * 1024).fill(200);
  const started = performance.now();
  await worker.ipc.send({ pixels }, { transfer: [pixels.buffer] });
  const { brightness } = await worker.ipc.receive() as { brightness: number };
  console.log(
    `brightness of 16 MiB: ${brightness} in ${
      (performance.now() - started).toFixed(1)
    } ms; our buffer is now ${pixels.byteLength} bytes (transferred)`,
  );

  // A stream of results.
  const primes: number[] = [];
  for await (
    const prime of worker.ipc.remote<typeof handlers>().primes({ below: 50 })
  ) {
    primes.push(prime);
  }
  console.log("primes below 50:", primes.join(" "));
  const { messagesOut, messagesIn } = worker.ipc.stats();
  console.log(`messages: ${messagesOut} out, ${messagesIn} in`);
}

// A worker that throws: the call in flight rejects, naming the error.
const failing = spawnWorkerWithIpc(module, { name: "failing" });
try {
  await failing.ipc.request("crash");
} catch (error) {
  if (!(error instanceof IpcClosedError)) throw error;
  console.log("the crashing call rejected:", error.message);
}
console.log("the worker ended with:", (await failing.closed)?.message);
