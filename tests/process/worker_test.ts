// Channels to Web Workers (spawnWorkerWithIpc): real workers, real
// postMessage; what crosses, calls, transfer, backpressure both ways, and
// workers that fail.
import assert from "node:assert/strict";
import {
  IpcChildExitedError,
  IpcClosedError,
  IpcMessageTooLargeError,
  IpcProtocolError,
  IpcValidationError,
  type IpcWorker,
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

/**
 * Starts a worker of the fixture and resolves `allPosted` when the worker
 * posts the foreign message "all posted". Our listener comes after the
 * channel's, so by then the channel has handled every earlier post. The
 * `Worker` the library creates is kept by wrapping its constructor meanwhile.
 */
function spawnWatchedWorker(
  name: string,
  options: Parameters<typeof spawnWorkerWithIpc>[1],
): { worker: IpcWorker; allPosted: Promise<void> } {
  const Original = globalThis.Worker;
  let created: Worker | undefined;
  globalThis.Worker = class extends Original {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      created = this;
    }
  };
  let worker: IpcWorker;
  try {
    worker = spawnWorkerWithIpc(WORKER, { ...options, name });
  } finally {
    globalThis.Worker = Original;
  }
  const allPosted = new Promise<void>((resolve) => {
    created!.addEventListener("message", (event) => {
      if (event.data === "all posted") resolve();
    });
  });
  return { worker, allPosted };
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
      error.cause instanceof IpcChildExitedError,
  );
  const exit = await within(worker.closed, "the worker's end");
  assert.ok(exit instanceof IpcChildExitedError);
  assert.match(exit.message, /Worker "serve" threw .*thrown from a timer/);
  assert.equal(exit.kind, "worker");
  assert.equal(exit.workerName, "serve");
  assert.equal(exit.pid, undefined);
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
  assert.ok(await worker.closed instanceof IpcChildExitedError);
});

Deno.test("a worker that calls Deno.exit(5) in a call: calls in flight reject naming the exit and its code, closed settles", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "serve" });
  assert.equal(
    await within(worker.ipc.request("add", { a: 1, b: 2 }), "a call"),
    3,
  );
  const hanging = worker.ipc.request("hang");
  const exiting = worker.ipc.request("exit", 5);
  for (const call of [exiting, hanging]) {
    await assert.rejects(
      within(call, "the rejection"),
      (error: unknown) =>
        error instanceof IpcClosedError &&
        /Worker "serve" called Deno\.exit\(5\)/.test(error.message) &&
        error.cause instanceof IpcChildExitedError &&
        error.cause.code === 5,
    );
  }
  const exit = await within(worker.closed, "the worker's end");
  assert.ok(exit instanceof IpcChildExitedError);
  assert.equal(exit.code, 5);
  await assert.rejects(worker.ipc.send("more"), IpcClosedError);
});

Deno.test("a worker that calls Deno.exit(3) with sends queued: they arrive, then the channel ends with the code", async () => {
  const worker = spawnWorkerWithIpc(WORKER, { name: "exit-top" });
  const { messages } = await within(collect(worker.ipc), "the messages");
  assert.deepEqual(messages, ["one", "two"]);
  const exit = await within(worker.closed, "the worker's end");
  assert.ok(exit instanceof IpcChildExitedError);
  assert.equal(exit.code, 3);
  await assert.rejects(worker.ipc.receive(), /called Deno\.exit\(3\)/);
});

for (const mode of ["throw-in-loop", "throw-in-using-loop"]) {
  Deno.test(`a worker that throws out of its loop over the parent's messages (${mode}): the channel ends naming the error, every time`, async () => {
    // With "await using", the worker's channel closes on the error's way
    // out, before the error ends the worker: the error must still win.
    // Repeated, since the two reach the parent by different paths.
    for (let run = 0; run < 20; run++) {
      const worker = spawnWorkerWithIpc(WORKER, { name: mode });
      await worker.ipc.send("go");
      const { messages } = await within(collect(worker.ipc), "the end");
      assert.deepEqual(messages, []);
      await assert.rejects(
        worker.ipc.receive(),
        (error: unknown) =>
          error instanceof IpcClosedError &&
          /threw .*thrown in the loop after "go"/.test(error.message),
        `run ${run}`,
      );
      const exit = await within(worker.closed, "the worker's end");
      assert.match(String(exit?.message), /thrown in the loop/, `run ${run}`);
    }
  });
}

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
  // Each message counts ~2 KiB (text is counted 2 bytes a character). In
  // flight at most: the window and the worker's queue (its 64 KiB receive
  // buffer each, plus a batch), the send buffer and the batch waiting for credit.
  const bound = 6 * limit / 2048;
  let sent = 0;
  const payload = "y".repeat(1024);
  const sending = (async () => {
    // Without backpressure every send resolves at once: stop, and fail below.
    while (sent <= 2 * bound) {
      await worker.ipc.send({ payload });
      sent++;
    }
  })().catch(() => {});
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
      error instanceof TypeError &&
      error.message.includes("--unstable-worker-options"),
  );
});

/** Runs the permissions parent with `flags` and returns what it printed. */
async function permissionsParent(
  flags: string[],
  args: string[] = [],
): Promise<Record<string, string>> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...flags,
      fixture("worker_permissions_parent.ts"),
      ...args,
    ],
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test("with --unstable-worker-options, a worker gets exactly its permissions", async () => {
  // With --allow-all the parent can read its own command line to see the flag.
  const seen = await within(
    permissionsParent(["--unstable-worker-options", "--allow-all"]),
    "the parent's report",
  );
  assert.equal(seen.read, "granted");
  assert.notEqual(seen.env, "granted", "env was not given to the worker");
  // Without --allow-all it cannot tell, so the caller declares the flag.
  const declared = await within(
    permissionsParent(
      ["--unstable-worker-options", "--allow-read", "--allow-env"],
      ["declare"],
    ),
    "the parent's report",
  );
  assert.equal(declared.read, "granted");
  assert.notEqual(declared.env, "granted");
});

Deno.test("worker permissions are refused when the flag is absent or cannot be seen", async () => {
  const absent = await within(
    permissionsParent(["--allow-all"]),
    "the parent's report",
  );
  assert.equal(absent.error, "TypeError");
  assert.match(absent.message, /--unstable-worker-options/);
  assert.match(absent.message, /runs without it/);
  assert.match(absent.message, /inherits every permission/);
  const unseen = await within(
    permissionsParent(["--unstable-worker-options", "--allow-read"]),
    "the parent's report",
  );
  assert.equal(unseen.error, "TypeError");
  assert.match(unseen.message, /cannot tell/);
});

Deno.test("every channel feature over a worker: streaming calls, validation, trace, stats", async () => {
  const traced: string[] = [];
  await using worker = spawnWorkerWithIpc(WORKER, {
    name: "serve",
    trace: (event) => traced.push(event.direction),
  });
  const items: number[] = [];
  const stream = worker.ipc.stream<Uint8Array, string>("count", { n: 300 });
  let step = await within(stream.next(), "the first item");
  for (; !step.done; step = await stream.next()) items.push(step.value[0]);
  assert.equal(step.value, "counted 300");
  assert.deepEqual(items, Array.from({ length: 300 }, (_, i) => i % 256));
  assert.ok(traced.includes("in") && traced.includes("out"));
  const stats = worker.ipc.stats();
  assert.ok(stats.messagesIn > 1 && stats.bytesIn > 300, JSON.stringify(stats));
  assert.equal(stats.calls.inFlight, 0);

  await using echo = spawnWorkerWithIpc(WORKER, {
    name: "echo",
    validate: (message: unknown) =>
      typeof (message as { echo?: { n?: unknown } }).echo?.n === "number",
  });
  await echo.ipc.send({ n: "one" });
  await echo.ipc.send({ n: 2 });
  await assert.rejects(echo.ipc.receive(), IpcValidationError);
  assert.deepEqual(await echo.ipc.receive(), { echo: { n: 2 } });
});

Deno.test("a hostile worker: foreign messages are ignored; lies about sizes, malformed batches, posting past its credit and bad credit fail the channel after the good messages", async () => {
  const cases: [string, new (...args: never[]) => Error, RegExp, unknown[]][] =
    [
      ["lying-size", IpcMessageTooLargeError, /over maxMessageBytes/, [
        "good",
        "also good",
      ]],
      ["no-messages", IpcProtocolError, /a batch with no messages/, ["good"]],
      ["past-credit", IpcProtocolError, /more than the credit/, ["good"]],
      ["bad-credit", IpcProtocolError, /a credit of Infinity/, ["good"]],
    ];
  for (const [how, kind, pattern, before] of cases) {
    const { worker, allPosted } = spawnWatchedWorker("hostile", {
      maxMessageBytes: 64 * 1024,
      receiveBufferBytes: 64 * 1024,
    });
    await using _ = worker;
    await worker.ipc.send({ how });
    // Not reading until the parent has handled every post: a reader frees
    // room, and the credit granted for it would cover the later posts.
    await within(allPosted, `${how}: the posts`);
    const { messages, error } = await within(collect(worker.ipc), how);
    assert.deepEqual(messages.slice(0, before.length), before, how);
    assert.ok(error instanceof kind, `${how}: ${error}`);
    assert.match((error as Error).message, pattern, how);
    if (how === "past-credit") {
      // Nothing past the credit it was given got in.
      assert.ok(messages.length <= 1 + 64 / 16 + 1, `${messages.length}`);
    }
  }
});

Deno.test("send() refuses a message over maxMessageBytes to a worker; the channel stays usable", async () => {
  await using worker = spawnWorkerWithIpc(WORKER, {
    name: "echo",
    maxMessageBytes: 1024,
  });
  await assert.rejects(
    worker.ipc.send({ bytes: new Uint8Array(4096) }),
    IpcMessageTooLargeError,
  );
  await worker.ipc.send({ small: true });
  assert.deepEqual(await within(worker.ipc.receive(), "the echo"), {
    echo: { small: true },
  });
});
