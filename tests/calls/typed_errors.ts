// Compile-time checks of calls typed from a handlers object. This file is
// never run: `typed_calls_test.ts` runs `deno check` on it, which passes only
// when each line marked `@ts-expect-error` is indeed an error.
import type { IpcJsonStream, IpcPool } from "../../mod.ts";
import type { handlers } from "../fixtures/stream_child.ts";

export async function typedCalls(channel: IpcJsonStream): Promise<void> {
  const api = channel.remote<typeof handlers>();

  const n: number = await api.fib({ n: 30 }, { timeout: 1000 });
  const pid: number = await api.pid();
  for await (const item of api.count({ n: 3 }, { highWaterMark: 4 })) {
    const value: string | number = item;
    console.log(n, pid, value);
  }

  // @ts-expect-error: unknown method
  await api.fibonacci({ n: 30 });
  // @ts-expect-error: wrong params
  await api.fib({ n: "30" });
  // @ts-expect-error: missing params
  await api.fib();
  // @ts-expect-error: stream() of a method that does not stream
  for await (const _ of api.fib({ n: 3 }));
  // @ts-expect-error: the result used as the wrong type
  const text: string = await api.fib({ n: 30 });
  // @ts-expect-error: a stream is not a promise of a result
  const items: number = await api.count({ n: 3 });
  console.log(text, items);
}

export async function typedPool(
  pool: IpcPool<typeof handlers>,
  untyped: IpcPool,
): Promise<void> {
  const n: number = await pool.request("fib", { n: 30 });
  for await (const item of pool.stream("count", { n: 3 })) {
    const value: string | number = item;
    console.log(n, value);
  }
  // Untyped pools keep working as before.
  const m: number = await untyped.request<number>("anything", { n: 1 });
  for await (const item of untyped.stream("anything")) console.log(m, item);

  // @ts-expect-error: unknown method
  await pool.request("fibonacci", { n: 30 });
  // @ts-expect-error: wrong params
  await pool.request("fib", { n: "30" });
  // @ts-expect-error: stream() of a method that does not stream
  pool.stream("fib", { n: 3 });
  // @ts-expect-error: request() of a method that streams
  await pool.request("count", { n: 3 });
  // @ts-expect-error: the result used as the wrong type
  const text: string = await pool.request("fib", { n: 30 });
  console.log(text);
}
