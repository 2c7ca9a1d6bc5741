/**
 * A worker of the pool demo: answers the parent's calls until the pool
 * closes. It needs no permissions at all.
 *
 * Run by `pool.ts`; started on its own it explains that it has no parent.
 *
 * @module
 */

import { IpcChannelNotFoundError, serveParentCalls } from "@tether/ipc";

/** CPU-bound on purpose: the kind of work a pool spreads over cores. */
function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

try {
  serveParentCalls({
    fib: ({ n }: { n: number }) => ({ n, fib: fib(n), pid: Deno.pid }),
    sha256: async ({ text }: { text: string }) => {
      const bytes = new TextEncoder().encode(text);
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-256", bytes),
      );
      return Array.from(digest, (b) => b.toString(16).padStart(2, "0"))
        .join("");
    },
    // Waits, but stops as soon as the caller gives up.
    sleep: ({ ms }: { ms: number }, { signal }) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve(`slept ${ms} ms`), ms);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
    divide: ({ a, b }: { a: number; b: number }) => {
      if (b === 0) {
        throw Object.assign(new RangeError("cannot divide by zero"), {
          data: { a, b },
        });
      }
      return a / b;
    },
  });
} catch (error) {
  if (!(error instanceof IpcChannelNotFoundError)) throw error;
  console.error("pool_worker.ts has no parent: run `deno task demo:pool`.");
  Deno.exit(1);
}
