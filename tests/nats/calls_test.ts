// Calls over a real nats-server, worker and caller in this process: results,
// errors carried across, no responders, timeouts and cancellation reaching
// the handler, payload limits, closing, concurrency, draining, discovery.
import assert from "node:assert/strict";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import {
  connectNatsCalls,
  IpcCancelledError,
  IpcClosedError,
  IpcMessageTooLargeError,
  IpcNoRespondersError,
  IpcProtocolError,
  IpcRemoteError,
  IpcTimeoutError,
  serveNatsCalls,
} from "../../nats.ts";
import { waitUntil, within } from "../helpers.ts";
import { slowLink, startNatsServer } from "./nats_server.ts";

/** A handler that waits until its call is cancelled, and reports the reason. */
function waitForCancel(reasons: unknown[]) {
  return (_params: unknown, { signal }: { signal: AbortSignal }) =>
    new Promise((_, reject) => {
      signal.addEventListener("abort", () => {
        reasons.push(signal.reason);
        reject(signal.reason);
      });
    });
}

Deno.test("nats: results, params and undefined both ways", async () => {
  await using server = await startNatsServer();
  await using _worker = await serveNatsCalls({
    add: ({ a, b }: { a: number; b: number }) => a + b,
    echo: (params: unknown) => ({ params: params ?? "none" }),
    nothing: () => undefined,
    later: async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return n * 2;
    },
  }, { servers: server.url, service: "math" });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "math",
  });
  assert.equal(await calls.request("add", { a: 2, b: 3 }), 5);
  assert.deepEqual(await calls.request("echo"), { params: "none" });
  assert.deepEqual(await calls.request("echo", null), { params: "none" });
  assert.deepEqual(await calls.request("echo", ["x", { y: 1 }]), {
    params: ["x", { y: 1 }],
  });
  assert.equal(await calls.request("nothing"), null);
  assert.deepEqual(
    await Promise.all([1, 2, 3].map((n) => calls.request("later", n))),
    [2, 4, 6],
  );
  const stats = calls.stats();
  assert.equal(stats.succeeded, 8);
  assert.equal(stats.failed, 0);
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.latency.count, 8);
});

Deno.test("nats: once serveNatsCalls() resolves the server knows the worker: a call made at once is answered, even over a slow link", async () => {
  await using server = await startNatsServer();
  // The worker's subscriptions reach the server 300 ms after it sent them.
  await using link = slowLink(server.port, 300);
  await using _worker = await serveNatsCalls({ pid: () => Deno.pid }, {
    servers: link.url,
    service: "slow",
  });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "slow",
  });
  assert.equal(await within(calls.request("pid"), "the answer"), Deno.pid);
});

Deno.test("nats: a handler's error arrives with name, message, code, data and stack", async () => {
  await using server = await startNatsServer();
  await using _worker = await serveNatsCalls({
    divide: ({ a, b }: { a: number; b: number }) => {
      if (b === 0) {
        throw Object.assign(new RangeError("cannot divide by zero"), {
          code: 42,
          data: { a, b },
        });
      }
      return a / b;
    },
    reject: () => Promise.reject("a plain string"),
  }, { servers: server.url, service: "math" });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "math",
  });
  const error = await calls.request("divide", { a: 1, b: 0 }).catch((e) => e);
  assert.ok(error instanceof IpcRemoteError, String(error));
  assert.equal(error.method, "divide");
  assert.equal(error.remoteName, "RangeError");
  assert.equal(error.remoteMessage, "cannot divide by zero");
  assert.equal(error.code, 42);
  assert.deepEqual(error.data, { a: 1, b: 0 });
  assert.match(error.remoteStack ?? "", /RangeError: cannot divide by zero/);
  const plain = await calls.request("reject").catch((e) => e);
  assert.ok(plain instanceof IpcRemoteError);
  assert.equal(plain.remoteMessage, "a plain string");
  // The worker goes on serving.
  assert.equal(await calls.request("divide", { a: 6, b: 3 }), 2);
});

Deno.test("nats: no worker for a method → IpcNoRespondersError, not a timeout", async () => {
  await using server = await startNatsServer();
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "nobody",
  });
  const started = performance.now();
  const error = await within(
    calls.request("work", 1, { timeout: 20_000 }).catch((e) => e),
    "the no-responders answer",
    10_000,
  );
  const elapsed = performance.now() - started;
  assert.ok(error instanceof IpcNoRespondersError, String(error));
  assert.equal(error.subject, "nobody.work");
  assert.match(error.message, /No worker serves "work"/);
  console.log(`no responders after ${elapsed.toFixed(1)} ms`);
  assert.equal(calls.stats().noResponders, 1);
  // A worker of the same service without that method changes nothing.
  await using _worker = await serveNatsCalls({ other: () => 1 }, {
    servers: server.url,
    service: "nobody",
  });
  await assert.rejects(calls.request("work"), IpcNoRespondersError);
  assert.equal(await calls.request("other"), 1);
});

Deno.test("nats: a timeout rejects with IpcTimeoutError and fires the handler's signal", async () => {
  await using server = await startNatsServer();
  const reasons: unknown[] = [];
  await using worker = await serveNatsCalls(
    { hang: waitForCancel(reasons), ping: () => "pong" },
    { servers: server.url, service: "slow" },
  );
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "slow",
  });
  const error = await calls.request("hang", null, { timeout: 200 }).catch((
    e,
  ) => e);
  assert.ok(error instanceof IpcTimeoutError, String(error));
  assert.equal(error.timeout, 200);
  await waitUntil(() => reasons.length > 0, "the handler's signal");
  assert.ok(reasons[0] instanceof IpcCancelledError);
  assert.equal(calls.stats().timedOut, 1);
  assert.equal(await calls.request("ping"), "pong");
  assert.equal(worker.stats().cancelled, 1);
  assert.equal(worker.stats().running, 0);
});

Deno.test("nats: aborting a call rejects with the reason and reaches the handler", async () => {
  await using server = await startNatsServer();
  const reasons: unknown[] = [];
  const started = Promise.withResolvers<void>();
  await using _worker = await serveNatsCalls({
    hang: (params: unknown, context) => {
      started.resolve();
      return waitForCancel(reasons)(params, context);
    },
  }, { servers: server.url, service: "abort" });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "abort",
  });
  const controller = new AbortController();
  const call = calls.request("hang", null, { signal: controller.signal });
  await within(started.promise, "the handler to start");
  controller.abort(new Error("user gave up"));
  await assert.rejects(call, /user gave up/);
  await waitUntil(() => reasons.length > 0, "the handler's signal");
  assert.ok(reasons[0] instanceof IpcCancelledError);
  // An already aborted signal: nothing is sent.
  await assert.rejects(
    calls.request("hang", null, { signal: AbortSignal.abort("early") }),
    (reason) => reason === "early",
  );
});

Deno.test("nats: params over max_payload are refused before sending; a result over it is an error", async () => {
  await using server = await startNatsServer({ config: "max_payload: 4096\n" });
  let received = 0;
  await using _worker = await serveNatsCalls({
    size: (text: string) => {
      received++;
      return text.length;
    },
    big: (n: number) => "y".repeat(n),
  }, { servers: server.url, service: "sizes" });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "sizes",
  });
  const error = await calls.request("size", "x".repeat(5000)).catch((e) => e);
  assert.ok(error instanceof IpcMessageTooLargeError, String(error));
  assert.equal(error.limit, 4096);
  assert.ok(error.size > 5000);
  assert.match(error.message, /max_payload of 4096 bytes/);
  assert.equal(received, 0);
  assert.equal(calls.stats().tooLarge, 1);
  // Nothing before or after is lost.
  assert.equal(await calls.request("size", "x".repeat(3000)), 3000);
  const big = await calls.request("big", 5000).catch((e) => e);
  assert.ok(big instanceof IpcRemoteError, String(big));
  assert.equal(big.remoteName, "IpcMessageTooLargeError");
  assert.match(big.remoteMessage, /max_payload/);
  assert.equal(await calls.request("big", 10), "y".repeat(10));
});

Deno.test("nats: close() rejects calls in flight and later calls with IpcClosedError", async () => {
  await using server = await startNatsServer();
  const started = Promise.withResolvers<void>();
  const reasons: unknown[] = [];
  await using worker = await serveNatsCalls({
    hang: (params: unknown, context) => {
      started.resolve();
      return waitForCancel(reasons)(params, context);
    },
  }, { servers: server.url, service: "closing", concurrency: 4 });
  const calls = await connectNatsCalls({
    servers: server.url,
    service: "closing",
  });
  const call = assert.rejects(calls.request("hang"), IpcClosedError);
  await within(started.promise, "the handler to start");
  await calls.close();
  await call;
  await assert.rejects(calls.request("hang"), IpcClosedError);
  await calls.close(); // twice is fine
  // The call was cancelled in the worker too.
  await waitUntil(
    () => worker.stats().running === 0,
    "the worker's handler to be cancelled",
  );
  assert.ok(reasons[0] instanceof IpcCancelledError);
});

Deno.test("nats: concurrency bounds the calls running at once; stop() drains", async () => {
  await using server = await startNatsServer();
  const gates: PromiseWithResolvers<void>[] = [];
  let running = 0;
  let most = 0;
  const worker = await serveNatsCalls({
    gate: async (n: number) => {
      running++;
      most = Math.max(most, running);
      const gate = Promise.withResolvers<void>();
      gates.push(gate);
      await gate.promise;
      running--;
      return n;
    },
  }, { servers: server.url, service: "bounded", concurrency: 2 });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "bounded",
  });
  const answers = [1, 2, 3, 4, 5].map((n) => calls.request("gate", n));
  await waitUntil(
    () => worker.stats().running + worker.stats().waiting === 5,
    "the five calls to reach the worker",
  );
  assert.deepEqual(
    { running: worker.stats().running, waiting: worker.stats().waiting },
    { running: 2, waiting: 3 },
  );
  // stop() while calls run and wait: it finishes all of them.
  const stopped = worker.stop();
  const release = setInterval(() => gates.shift()?.resolve(), 5);
  try {
    assert.deepEqual(await within(Promise.all(answers), "the answers"), [
      1,
      2,
      3,
      4,
      5,
    ]);
    await within(stopped, "stop()");
  } finally {
    clearInterval(release);
  }
  assert.equal(most, 2);
  await worker.stopped;
  // Nobody serves the service any more.
  await assert.rejects(calls.request("gate", 6), IpcNoRespondersError);
});

Deno.test("nats: the service is found with $SRV.PING and $SRV.INFO", async () => {
  await using server = await startNatsServer();
  await using worker = await serveNatsCalls(
    { fib: () => 1, sha256: () => "" },
    {
      servers: server.url,
      service: "discover",
      version: "1.2.3",
      description: "test",
    },
  );
  const nc = await connect({ servers: server.url });
  try {
    const client = new Svcm(nc).client();
    const infos = [];
    for await (const info of await client.info("discover")) infos.push(info);
    assert.equal(infos.length, 1);
    assert.equal(infos[0].id, worker.id);
    assert.equal(infos[0].version, "1.2.3");
    assert.deepEqual(
      infos[0].endpoints.map((e) => [e.name, e.subject, e.queue_group]).sort(),
      [["fib", "discover.fib", "tether"], [
        "sha256",
        "discover.sha256",
        "tether",
      ]],
    );
    const pings = [];
    for await (const ping of await client.ping("discover")) pings.push(ping);
    assert.equal(pings.length, 1);
  } finally {
    await nc.close();
  }
});

Deno.test("nats: invalid options and names are refused with clear errors", async () => {
  await using server = await startNatsServer();
  await assert.rejects(
    serveNatsCalls({ "a.b": () => 1 }, { servers: server.url, service: "s" }),
    /letters, digits/,
  );
  await assert.rejects(
    serveNatsCalls({ ok: () => 1 }, { servers: server.url, service: "a b" }),
    /service "a b" cannot be used over NATS/,
  );
  await assert.rejects(
    serveNatsCalls({}, { servers: server.url, service: "s" }),
    /at least one handler/,
  );
  await assert.rejects(
    serveNatsCalls({ ok: () => 1 }, {
      servers: server.url,
      service: "s",
      methods: ["ok"],
    }),
    /methods is for an IpcPool/,
  );
  await assert.rejects(
    serveNatsCalls({ ok: () => 1 }, {
      servers: server.url,
      service: "s",
      concurrency: 0,
    }),
    RangeError,
  );
  await assert.rejects(
    connectNatsCalls({ servers: server.url, service: "s", timeout: -1 }),
    RangeError,
  );
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "s",
  });
  await assert.rejects(calls.request("a.b"), /letters, digits/);
  await assert.rejects(calls.request("x", 1n), TypeError);
  assert.equal(calls.stats().inFlight, 0);
});

Deno.test("nats: remote<H>() calls with the handlers' types; streaming handlers are refused", async () => {
  await using server = await startNatsServer();
  const handlers = {
    add: ({ a, b }: { a: number; b: number }) => a + b,
    hello: () => "hello",
    async *count(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
  };
  await using _worker = await serveNatsCalls(handlers, {
    servers: server.url,
    service: "typed",
  });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "typed",
  });
  const api = calls.remote<typeof handlers>();
  const sum: number = await api.add({ a: 40, b: 2 }, { timeout: 5000 });
  assert.equal(sum, 42);
  assert.equal(await api.hello(), "hello");
  // @ts-expect-error: streaming methods are not on a NATS proxy
  assert.equal(api.count, api.count);
  // @ts-expect-error: wrong params (never called)
  const wrong = () => api.add({ a: "x" });
  assert.equal(typeof wrong, "function");
  const error = await calls.request("count", 3).catch((e) => e);
  assert.ok(error instanceof IpcRemoteError, String(error));
  assert.equal(error.remoteName, "TypeError");
  assert.match(error.remoteMessage, /streaming calls are not served over NATS/);
});

Deno.test("nats: hostile input — bad params, a missing call id, and a foreign answer fail clearly", async () => {
  await using server = await startNatsServer();
  let calls = 0;
  await using worker = await serveNatsCalls({
    echo: (params: unknown) => {
      calls++;
      return params;
    },
  }, { servers: server.url, service: "hostile" });
  const nc = await connect({ servers: server.url });
  try {
    const encoder = new TextEncoder();
    // Params that are not JSON: an error answer, the handler never runs.
    const bad = await nc.request("hostile.echo", encoder.encode("{not json"));
    const answer = bad.json<{ error: { code: number; message: string } }>();
    assert.equal(answer.error.code, -32700);
    assert.match(answer.error.message, /params of "echo" are not JSON/);
    assert.equal(bad.headers?.get("Nats-Service-Error-Code"), "-32700");
    // Invalid UTF-8 as well.
    const binary = await nc.request(
      "hostile.echo",
      new Uint8Array([0x22, 0xff, 0x22]),
    );
    assert.equal(binary.json<{ error: { code: number } }>().error.code, -32700);
    assert.equal(calls, 0);
    // No call-id header (any NATS client): still answered.
    const plain = await nc.request("hostile.echo", encoder.encode("[1,2]"));
    assert.deepEqual(plain.json(), { result: [1, 2] });
    assert.equal(calls, 1);
    assert.equal(worker.stats().handlerErrors, 2);

    // A foreign responder on a method's subject: the caller says so.
    nc.subscribe("foreign.echo", {
      callback: (_error, msg) => msg.respond(encoder.encode("surprise")),
    });
    await nc.flush();
    await using caller = await connectNatsCalls({
      servers: server.url,
      service: "foreign",
    });
    const error = await caller.request("echo", 1).catch((e) => e);
    assert.ok(error instanceof IpcProtocolError, String(error));
    assert.match(error.message, /not a call's answer/);
    assert.equal(error.excerpt, "surprise");
    // The caller goes on working.
    await using good = await connectNatsCalls({
      servers: server.url,
      service: "hostile",
    });
    assert.equal(await good.request("echo", "ok"), "ok");
  } finally {
    await nc.close();
  }
});
