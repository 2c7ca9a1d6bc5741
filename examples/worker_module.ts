/**
 * The worker of `examples/worker.ts`: answers calls, and measures the pixels
 * sent to it as plain messages. `serveParentCalls()` and `connectParentIpc()`
 * find the parent's channel because they run in a worker.
 *
 * @module
 */

import { serveParentCalls } from "@tether/ipc";

/** The calls this worker answers; the parent imports only their type. */
export const handlers = {
  summarize: (
    { inventory, at }: { inventory: Map<string, bigint>; at: Date },
  ) => {
    let total = 0n;
    for (const count of inventory.values()) total += count;
    return `${inventory.size} kinds, ${total} items, counted ${at.toISOString()}`;
  },
  async *primes({ below }: { below: number }) {
    for (let n = 2; n < below; n++) {
      let prime = true;
      for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
      if (prime) yield n;
    }
  },
  crash: () => {
    setTimeout(() => {
      throw new Error("the worker failed on purpose");
    });
    return new Promise(() => {});
  },
};

const parent = serveParentCalls(handlers);

for await (const message of parent) {
  const { pixels } = message as { pixels: Uint8Array };
  let sum = 0;
  for (let i = 0; i < pixels.length; i++) sum += pixels[i];
  await parent.send({ brightness: sum / pixels.length });
}
