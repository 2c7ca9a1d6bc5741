// Channels to Web Workers (spawnWorkerWithIpc): real workers, real
// postMessage; what crosses, calls, transfer, backpressure both ways, and
// workers that fail.
import assert from "node:assert/strict";
import {
  IpcClosedError,
  IpcUnstableFlagError,
  IpcWorkerExitedError,
  spawnWorkerWithIpc,
} from "../../mod.ts";
import { collect, fixture, sleep, waitUntil, within } from "../helpers.ts";

const WORKER = fixture("worker_child.ts");

/** Waits until `read()` stops growing (or passes `limit`), and returns it. */
async function settledCount(
  read: () => number,
  limit: number,
): Promise<number> {
  let last = -1;
  await waitUntil(() => read() > 0, "the first message");
  while (read() !== last && read() <= limit) {
    last = read();
    await sleep(500);
  }
  return read();
}

Deno.test("a worker echoes structured clones: Map, Date, BigInt, typed arrays arrive as sent", async () => {
  await using worker = spawnWorkerWithIpc(WORKER, { name: "echo" });
  const message = {
    map: new Map<unknown, unknown>([["a", 1], [2, new Set(["b"])]]),
    date: new Date("2026-12-01T00:00:00Z"),
    big: 2n ** 70n,
    bytes: new Uint8Array([0, 1, 255]),
    floats: new Float64Array([Math.PI]),
    missing: undefined,
  };
  await worker.ipc.send(message);
  assert.deepEqual(await within(worker.ipc.receive(), "the echo"), {
    echo: message,
  });
  const stats = worker.ipc.stats();
  assert.equal(stats.messagesOut, 1);
  assert.equal(stats.messagesIn, 1);
  assert.ok(stats.bytesIn > 0 && stats.bytesOut > 0);
});

Deno.test("calls to a worker, and a value postMessage cannot clone is refused before anything is sent", async () => {
  await using worker = spawnWorkerWithIpc(WORKER, { name: "serve" });
  assert.equal(
    await within(worker.ipc.request("add", { a: 2, b: 40 }), "the call"),
    42,
  );
  await assert.rejects(
    worker.ipc.send({ callback: () => {} } as unknown),
    (error: unknown) =>
      error instanceof TypeError && /cannot clone/.test(error.message),
  );
  assert.equal(await worker.ipc.request("add", { a: 1, b: 1 }), 2);
});

Deno.test("send(message, { transfer }) moves a 16 MiB buffer: detached here, whole there", async () => {
  await using worker = spawnWorkerWithIpc(WORKER, { name: "sizes" });
  const bytes = new Uint8Array(16 * 1024 * 1024).fill(7);
  await worker.ipc.send({ bytes }, { transfer: [bytes.buffer] });
  assert.equal(bytes.byteLength, 0, "the sender's buffer is detached");
  assert.deepEqual(await within(worker.ipc.receive(), "the answer"), {
    length: 16 * 1024 * 1024,
    first: 7,
  });
  await assert.rejects(
    worker.ipc.send({ bytes }, { transfer: [bytes.buffer] }),
    /detached/,
  );
});

Deno.test("a worker that throws later ends the channel: calls in flight reject naming the error", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "serve" });
  const hanging = worker.ipc.request("hang");
  assert.equal(await worker.ipc.request("throwLater"), "throwing");
  await assert.rejects(
    within(hanging, "the rejection"),
    (error: unknown) =>
      error instanceof IpcClosedError &&
      /thrown from a timer/.test(error.message) &&
      error.cause instanceof IpcWorkerExitedError,
  );
  const exit = await within(worker.closed, "the worker's end");
  assert.ok(exit instanceof IpcWorkerExitedError);
  assert.match(exit.message, /Worker "serve" threw .*thrown from a timer/);
  await assert.rejects(worker.ipc.send("more"), IpcClosedError);
});

Deno.test("a worker that throws at top level: the call waiting for it rejects naming the error", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "throw-top" });
  await assert.rejects(
    within(worker.ipc.request("anything"), "the rejection"),
    (error: unknown) =>
      error instanceof IpcClosedError &&
      /thrown at top level/.test(error.message),
  );
  assert.ok(await worker.closed instanceof IpcWorkerExitedError);
});

Deno.test("a worker that calls self.close(): what it sent arrives, then the channel ends with the cause", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "close-top" });
  const { messages } = await within(collect(worker.ipc), "the messages");
  assert.deepEqual(messages, ["about to close"]);
  const exit = await within(worker.closed, "the worker's end");
  assert.match(String(exit?.message), /called self\.close\(\)/);
  await assert.rejects(worker.ipc.request("x"), /called self\.close\(\)/);
});

Deno.test("a worker that closes its channel, then itself: a clean end", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "close-after" });
  const { messages, error } = await within(collect(worker.ipc), "messages");
  assert.deepEqual(messages, ["bye"]);
  assert.equal(error, undefined);
  assert.equal(await within(worker.closed, "the worker's end"), undefined);
});

Deno.test("terminate() rejects calls in flight and resolves closed", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "serve" });
  assert.equal(await worker.ipc.request("add", { a: 1, b: 2 }), 3);
  const hanging = worker.ipc.request("hang");
  worker.terminate();
  await assert.rejects(hanging, /terminate\(\)/);
  assert.equal(await within(worker.closed, "the end"), undefined);
});

Deno.test("a worker that never reads: the parent's send() waits instead of growing memory", async () => {
  const limit = 64 * 1024;
  await using worker = spawnWorkerWithIpc(WORKER, {
    name: "stalled",
    sendBufferBytes: limit,
    receiveBufferBytes: limit,
  });
  assert.equal(await worker.ipc.receive(), "connected");
  let sent = 0;
  const payload = "y".repeat(1024);
  const sending = (async () => {
    for (;;) {
      await worker.ipc.send({ payload });
      sent++;
    }
  })().catch(() => {});
  // Each message counts ~2 KiB (text is counted 2 bytes a character). In
  // flight at most: the window and the worker's queue (its 64 KiB receive
  // buffer each, plus a batch), the send buffer and the batch waiting for credit.
  const bound = 6 * limit / 2048;
  const count = await within(settledCount(() => sent, bound), "sends to stop");
  assert.ok(count <= bound, `${count} sends of 1 KiB went through`);
  worker.terminate();
  await sending;
});

Deno.test("a worker that floods a parent that does not read: its send() waits", async () => {
  const limit = 64 * 1024;
  await using worker = spawnWorkerWithIpc(WORKER, {
    name: "flood",
    receiveBufferBytes: limit,
  });
  const counter = new Int32Array(new SharedArrayBuffer(4));
  await worker.ipc.send(counter);
  // ~2 KiB a message; the worker's own send buffer is 1 MiB by default.
  const bound = (6 * limit + 2 * 1024 * 1024) / 2048;
  const count = await within(
    settledCount(() => Atomics.load(counter, 0), bound),
    "the flood to stop",
  );
  assert.ok(count <= bound, `${count} messages of 1 KiB were sent`);
  assert.ok(worker.ipc.stats().bytesIn <= 4 * limit);
  // Reading lets it go on.
  for (let i = 0; i < count + 10; i++) await worker.ipc.receive();
});

Deno.test("worker permissions without --unstable-worker-options are refused, naming the flag", () => {
  assert.throws(
    () =>
      spawnWorkerWithIpc(WORKER, {
        name: "permissions",
        permissions: { read: ["/tmp"] },
      }),
    (error: unknown) =>
      error instanceof IpcUnstableFlagError &&
      error.flag === "--unstable-worker-options" &&
      error.message.includes("--unstable-worker-options"),
  );
});
