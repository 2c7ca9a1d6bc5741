// The worker of the IpcPool runs of bench/pool_compare.ts: an echo of a
// small object, or fib(n). Needs no permissions.
import { serveParentCalls } from "../../mod.ts";

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

serveParentCalls({
  echo: (value: unknown) => value,
  fib: ({ n }: { n: number }) => fib(n),
});
