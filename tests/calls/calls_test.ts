// Calls between a real parent and a real child: request()/handle() over the
// channel, answers out of order, errors, cancellation both ways, timeouts,
// unknown methods, plain messages mixed in, closing, stats and tracing.
import assert from "node:assert/strict";
import {
  connectIpc,
  IpcCancelledError,
  IpcClosedError,
  IpcMethodNotFoundError,
  IpcRemoteError,
  type IpcStreamStats,
  IpcTimeoutError,
  type IpcTraceEvent,
  listenIpc,
  spawnWithIpc,
} from "../../mod.ts";
import { fixture, spawnFixture, within } from "../helpers.ts";

interface Cancelled {
  cancelled: unknown;
  reason: string;
  message: string;
}

Deno.test("request() gets the result of the child's handler", async () => {
  await using child = spawnFixture("calls_child.ts");
  const call = (method: string, params?: unknown) =>
    within(child.ipc.request(method, params), `the answer to ${method}`);
  assert.equal(await call("add", { a: 2, b: 40 }), 42);
  const value = { text: "é😀", list: [1, null, { deep: true }] };
  assert.deepEqual(await call("echo", value), value);
  assert.equal(await call("echo"), null, "no params: undefined");
  assert.equal(await call("nothing"), null, "undefined → null");
  await child.ipc.close();
  assert.equal((await within(child.status, "the child's exit")).code, 0);
});

Deno.test("a thousand calls in flight at once each get their own answer", async () => {
  await using child = spawnFixture("calls_child.ts");
  const count = 1000;
  const answers = await within(
    Promise.all(
      Array.from(
        { length: count },
        (_, i) => child.ipc.request<number>("add", { a: i, b: 0.5 }),
      ),
    ),
    "the answers",
  );
  assert.deepEqual(answers, Array.from({ length: count }, (_, i) => i + 0.5));
  assert.equal(child.ipc.stats().calls.inFlight, 0);
});

Deno.test("answers arrive out of order, each to its own call", async () => {
  await using child = spawnFixture("calls_child.ts");
  const finished: number[] = [];
  const delays = [600, 400, 200, 0];
  const answers = await within(
    Promise.all(delays.map(async (ms) => {
      const value = await child.ipc.request<number>("sleep", {
        ms,
        value: ms,
      });
      finished.push(value);
      return value;
    })),
    "the answers",
  );
  assert.deepEqual(answers, delays, "each call got its own answer");
  assert.deepEqual(finished, [0, 200, 400, 600], "the quickest came first");
});

Deno.test("an error thrown by a handler crosses with its name, message, stack, code and data", async () => {
  await using child = spawnFixture("calls_child.ts");
  const error = await child.ipc.request("fail", {
    code: 4013,
    data: { width: 90_000 },
  }).catch((error) => error);
  assert.ok(error instanceof IpcRemoteError);
  assert.equal(error.method, "fail");
  assert.equal(error.remoteName, "ImageError");
  assert.equal(error.remoteMessage, "the image is too large");
  assert.equal(error.code, 4013);
  assert.deepEqual(error.data, { width: 90_000 });
  assert.match(error.remoteStack ?? "", /calls_child\.ts/);
  assert.match(error.message, /"fail".*ImageError: the image is too large/);

  const plain = await child.ipc.request("fail", {}).catch((error) => error);
  assert.ok(plain instanceof IpcRemoteError);
  assert.equal(plain.code, -32000, "a handler error without a code");
  assert.equal(plain.data, undefined);

  const thrown = await child.ipc.request("throwString").catch((e) => e);
  assert.ok(thrown instanceof IpcRemoteError);
  assert.equal(thrown.remoteMessage, "plain string");
});

Deno.test("a result JSON cannot carry is answered with an error saying why", async () => {
  await using child = spawnFixture("calls_child.ts");
  const error = await child.ipc.request("bigint").catch((error) => error);
  assert.ok(error instanceof IpcRemoteError);
  assert.equal(error.code, -32603);
  assert.match(error.message, /could not be sent.*BigInt/);
  assert.equal(await child.ipc.request("add", { a: 1, b: 1 }), 2);
});

Deno.test("params JSON cannot carry reject the call without sending it", async () => {
  await using child = spawnFixture("calls_child.ts");
  await assert.rejects(
    within(child.ipc.request("echo", { n: 1n }), "the rejection"),
    TypeError,
  );
  assert.equal(child.ipc.stats().calls.inFlight, 0);
  assert.equal(await child.ipc.request("add", { a: 1, b: 1 }), 2);
});

Deno.test("an unknown method gets JSON-RPC error -32601", async () => {
  await using child = spawnFixture("calls_child.ts");
  const error = await child.ipc.request("noSuchMethod").catch((e) => e);
  assert.ok(error instanceof IpcMethodNotFoundError);
  assert.ok(error instanceof IpcRemoteError);
  assert.equal(error.code, -32601);
  assert.match(error.message, /no handler for "noSuchMethod"/);
});

Deno.test("a call already received when handle() and the loop start in the same tick goes to its handler, not the iterator", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/early.sock`;
  const authKey = "a shared secret of 16 bytes or more";
  try {
    await using listener = await listenIpc({ path, authKey });
    const served = (async () => {
      for await (const client of listener) {
        const answer = await client.request("hello", 41, { timeout: 30_000 })
          .catch((error: Error) => error.name);
        await client.send("done").catch(() => {});
        await client.close();
        return answer;
      }
    })();
    await using server = await connectIpc({ path, authKey });
    // The call is received and queued before anything on this end listens.
    await within(
      (async () => {
        while (server.stats().messagesIn === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })(),
      "the server's call",
    );
    server.handle("hello", (n: number) => n + 1);
    const plain: unknown[] = [];
    for await (const message of server) {
      plain.push(message);
      break;
    }
    assert.deepEqual(plain, ["done"], "the call is not a plain message");
    assert.equal(await within(served, "the answer"), 42);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a call that arrives before its handler gets -32601, and succeeds once it is registered", async () => {
  await using child = spawnFixture("calls_child.ts");
  await assert.rejects(child.ipc.request("late"), IpcMethodNotFoundError);
  assert.equal(await child.ipc.request("register", "late"), true);
  assert.equal(await child.ipc.request("late"), "late is here");
});

Deno.test("a timeout rejects at once with IpcTimeoutError and the child's handler is cancelled", async () => {
  await using child = spawnFixture<Cancelled>("calls_child.ts");
  const started = performance.now();
  const error = await child.ipc.request("sleep", {
    ms: 60_000,
    value: "slow",
  }, { timeout: 100 }).catch((error) => error);
  assert.ok(error instanceof IpcTimeoutError);
  assert.equal(error.timeout, 100);
  assert.equal(error.method, "sleep");
  assert.ok(
    performance.now() - started < 30_000,
    "did not wait for the handler",
  );
  const report = await within(child.ipc.receive(), "the child's report");
  assert.equal(report.cancelled, "slow");
  assert.equal(report.reason, "IpcCancelledError");
  assert.equal(child.ipc.stats().calls.inFlight, 0);
});

Deno.test("aborting the caller's signal rejects with its reason and cancels the handler", async () => {
  await using child = spawnFixture<Cancelled>("calls_child.ts");
  const controller = new AbortController();
  const call = child.ipc.request("sleep", { ms: 60_000, value: "aborted" }, {
    signal: controller.signal,
  });
  // Wait until the handler runs: the child answers calls in order.
  assert.equal(await child.ipc.request("add", { a: 0, b: 0 }), 0);
  const reason = new Error("the user went away");
  controller.abort(reason);
  assert.equal(await call.catch((error) => error), reason);
  const report = await within(child.ipc.receive(), "the child's report");
  assert.deepEqual(
    [report.cancelled, report.reason],
    ["aborted", "IpcCancelledError"],
  );
});

Deno.test("a signal aborted before the call rejects without sending anything", async () => {
  await using child = spawnFixture("calls_child.ts");
  const reason = new Error("too late");
  await assert.rejects(
    child.ipc.request("add", { a: 1, b: 1 }, {
      signal: AbortSignal.abort(reason),
    }),
    (error) => error === reason,
  );
  const childStats = await child.ipc.request<IpcStreamStats>("stats");
  assert.equal(childStats.calls.handled, 0, "the child saw no earlier call");
});

Deno.test("the child calls the parent over the same channel, and its timeout cancels the parent's handler", async () => {
  await using child = spawnFixture("calls_child.ts");
  child.ipc.handle("double", (n: number) => 2 * n);
  assert.deepEqual(
    await child.ipc.request("callParent", { method: "double", params: 21 }),
    { result: 42 },
  );

  const cancelled = Promise.withResolvers<unknown>();
  child.ipc.handle("wait", (_params, { signal }) => {
    signal.addEventListener("abort", () => cancelled.resolve(signal.reason));
    return new Promise(() => {});
  });
  const answer = await within(
    child.ipc.request<{ error: { name: string } }>("callParent", {
      method: "wait",
      timeout: 100,
    }),
    "the child's call",
  );
  assert.equal(answer.error.name, "IpcTimeoutError");
  assert.ok(
    await within(cancelled.promise, "the cancellation") instanceof
      IpcCancelledError,
  );
});

Deno.test("plain messages and calls share the channel; JSON-RPC lookalikes stay plain", async () => {
  await using child = spawnFixture<{ echo: unknown }>("calls_child.ts");
  const lookalikes = [
    { jsonrpc: "2.0", id: 1, method: "echo", extra: true },
    { jsonrpc: "1.0", id: 2, method: "echo" },
    { jsonrpc: "2.0", method: "echo" },
    { jsonrpc: "2.0", id: null, method: "echo" },
    { jsonrpc: "2.0", id: 9_999_999, result: 1 },
    { jsonrpc: "2.0", id: 3, result: 1, error: { code: 1, message: "x" } },
    { jsonrpc: "2.0", id: 4, error: { code: "E", message: "x" } },
    [{ jsonrpc: "2.0", id: 5, method: "echo" }],
  ];
  const calls = [];
  for (const [i, message] of lookalikes.entries()) {
    calls.push(child.ipc.request("add", { a: i, b: 1 }));
    await child.ipc.send(message);
  }
  assert.deepEqual(
    await Promise.all(calls),
    lookalikes.map((_, i) => i + 1),
  );
  for (const message of lookalikes) {
    assert.deepEqual(await within(child.ipc.receive(), "an echo"), {
      echo: message,
    });
  }
});

Deno.test("calls in flight when the child exits reject with IpcClosedError, never hang", async () => {
  await using child = spawnFixture("calls_child.ts");
  const waiting = child.ipc.request("sleep", { ms: 60_000 });
  const exiting = child.ipc.request("exit", 3);
  for (const call of [waiting, exiting]) {
    const error = await within(call.catch((e) => e), "the rejection");
    assert.ok(error instanceof IpcClosedError);
    assert.match(
      error.message,
      /get an answer to the call .* channel is closed/,
    );
  }
  assert.equal((await child.status).code, 3);
  await assert.rejects(child.ipc.request("add"), IpcClosedError);
  assert.equal(child.ipc.stats().calls.failed, 3);
});

Deno.test("a child that only handles calls stays alive until the parent closes the channel", async () => {
  await using child = spawnFixture("pool_worker.ts");
  const pid = await child.ipc.request<number>("pid");
  assert.equal(pid, child.pid);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await child.ipc.request("pid"), pid, "still alive");
  await child.ipc.close();
  assert.deepEqual(await within(child.status, "the child's exit"), {
    success: true,
    code: 0,
    signal: null,
  });
});

Deno.test("stats() counts messages, bytes, calls, errors and latency on both ends", async () => {
  await using child = spawnFixture("calls_child.ts");
  const before = child.ipc.stats();
  assert.deepEqual(
    [before.messagesIn, before.messagesOut, before.errors],
    [0, 0, 0],
  );
  for (let i = 0; i < 50; i++) await child.ipc.request("add", { a: i, b: i });
  await child.ipc.request("fail", {}).catch(() => {});
  await child.ipc.request("missing").catch(() => {});
  const stats = child.ipc.stats();
  assert.equal(stats.messagesOut, 52);
  assert.equal(stats.messagesIn, 52);
  assert.ok(stats.bytesOut > 52 * 40 && stats.bytesIn > 52 * 30);
  assert.equal(stats.calls.succeeded, 50);
  assert.equal(stats.calls.failed, 2);
  assert.equal(stats.calls.inFlight, 0);
  assert.equal(stats.errors, 2);
  assert.equal(stats.calls.latency.count, 52);
  const { p50, p90, p99, max, mean } = stats.calls.latency;
  assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max && mean > 0);

  const childStats = await child.ipc.request<IpcStreamStats>("stats");
  assert.equal(childStats.calls.handled, 50);
  assert.equal(childStats.calls.handlerErrors, 2);
  assert.equal(childStats.calls.handling, 1, "the stats call itself");
  assert.equal(childStats.messagesIn, 53);
  assert.equal(childStats.bytesOut, stats.bytesIn, "ASCII: bytes both ways");
});

Deno.test("the trace option sees every message in and out, cut short", async () => {
  const events: IpcTraceEvent[] = [];
  await using child = spawnFixture("calls_child.ts", [], {
    trace: (event) => events.push(event),
  });
  await child.ipc.request("echo", "x".repeat(1000));
  await child.ipc.send({ plain: true });
  await child.ipc.receive();
  assert.deepEqual(events.map((event) => event.direction), [
    "out",
    "in",
    "out",
    "in",
  ]);
  const [request, response] = events;
  assert.match(request.text, /^\{"jsonrpc":"2.0","id":1,"method":"echo"/);
  assert.equal(request.text.length, 240);
  assert.ok(request.text.endsWith("…"));
  const x = "x".repeat(1000);
  assert.equal(
    request.length,
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "echo", params: [x] })
      .length,
  );
  assert.equal(
    response.length,
    JSON.stringify({ jsonrpc: "2.0", id: 1, result: x }).length,
  );
  assert.equal(events[3].text, '{"echo":{"plain":true}}');
});

Deno.test("TETHER_IPC_TRACE=1 traces to stderr where env is granted, and is ignored, without a prompt, where not", async () => {
  for (
    const [flags, traced] of [[["--allow-env=TETHER_IPC_TRACE"], true], [
      [],
      false,
    ]] as const
  ) {
    await using child = spawnFixture("calls_child.ts", [], {
      flags: [...flags],
      env: { TETHER_IPC_TRACE: "1" },
      stderr: "piped",
    });
    assert.equal(await child.ipc.request("add", { a: 1, b: 2 }), 3);
    await child.ipc.close();
    const stderr = await new Response(child.stderr).text();
    assert.equal((await child.status).code, 0);
    if (traced) {
      assert.match(
        stderr,
        new RegExp(
          `\\[tether/ipc ${child.pid}\\] ← \\{"jsonrpc":"2.0","id":1,"method":"add"`,
        ),
      );
      assert.match(stderr, /→ \{"jsonrpc":"2.0","id":1,"result":3\}/);
    } else {
      assert.equal(stderr, "");
    }
  }
});

Deno.test("a Python child with only its standard library answers calls and calls the parent", async () => {
  await using child = spawnWithIpc<unknown>("python3", {
    args: [fixture("python_rpc_child.py")],
  });
  child.ipc.handle("greet", ({ name }: { name: string }) => `hello ${name}`);
  assert.deepEqual(await within(child.ipc.receive(), "the report"), {
    greeted: "hello python",
  });
  assert.equal(
    await within(child.ipc.request("add", { a: 2, b: 3 }), "add"),
    5,
  );
  const error = await child.ipc.request("fail").catch((e) => e);
  assert.ok(error instanceof IpcRemoteError);
  assert.equal(error.remoteName, "ValueError");
  assert.equal(error.remoteMessage, "python says no");
  assert.match(error.remoteStack ?? "", /Traceback/);
  await assert.rejects(child.ipc.request("nope"), IpcMethodNotFoundError);
  await child.ipc.send({ plain: 1 });
  assert.deepEqual(await child.ipc.receive(), { echo: { plain: 1 } });
  await child.ipc.close();
  assert.equal((await within(child.status, "python to exit")).code, 0);
});

Deno.test("calls work over the advanced serialization, with values JSON cannot carry", async () => {
  await using child = spawnFixture("advanced_calls_child.ts", [], {
    serialization: "advanced",
  });
  const value = new Map<string, unknown>([["when", new Date(0)], ["n", 10n]]);
  assert.deepEqual(
    await within(child.ipc.request("describe", value), "the call"),
    {
      type: "[object Map]",
      value,
    },
  );
  assert.deepEqual(await child.ipc.receive(), { plain: "not a call" });
});

Deno.test("validate and nodeCompat see plain messages only: calls and answers are taken first", async () => {
  await using child = spawnFixture<{ echo: { ok: true } }>(
    "calls_child.ts",
    [],
    {
      validate: (message): message is { echo: { ok: true } } =>
        typeof message === "object" && message !== null && "echo" in message,
      nodeCompat: true,
    },
  );
  assert.equal(
    await within(child.ipc.request("add", { a: 1, b: 2 }), "add"),
    3,
  );
  await child.ipc.send({ ok: true });
  assert.deepEqual(await child.ipc.receive(), { echo: { ok: true } });
});

Deno.test("calls work both ways on a channel from listenIpc()/connectIpc() (a Unix socket)", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/calls.sock`;
  const authKey = "a shared secret of 16 bytes or more";
  try {
    await using listener = await listenIpc({ path, authKey });
    const served = (async () => {
      for await (const client of listener) {
        client.handle("add", ({ a, b }: { a: number; b: number }) => a + b);
        assert.equal(await client.request("whoami"), "the client");
      }
    })();
    {
      await using server = await connectIpc({ path, authKey });
      server.handle("whoami", () => "the client");
      assert.equal(
        await within(server.request("add", { a: 20, b: 22 }), "add"),
        42,
      );
    }
    await listener.close();
    await within(served, "the server loop");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
