// Several worker processes in one queue group against a real nats-server:
// calls spread over them, a worker killed mid-run (its calls time out, the
// others go on), a restarted worker picked up, the server restarting, and a
// pool of children behind each worker.
import assert from "node:assert/strict";
import { Svcm } from "@nats-io/services";
import { connect } from "@nats-io/transport-node";
import { IpcPool } from "../../mod.ts";
import {
  connectNatsCalls,
  IpcNoRespondersError,
  IpcRemoteError,
  IpcTimeoutError,
  serveNatsCalls,
} from "../../nats.ts";
import { fixture, waitUntil, within } from "../helpers.ts";
import { startNatsServer } from "./nats_server.ts";
import { startWorker } from "./worker_process.ts";

/** Calls received by each worker of `service`, by worker id, from $SRV.STATS. */
async function requestsByWorker(
  url: string,
  service: string,
): Promise<number[]> {
  const nc = await connect({ servers: url });
  try {
    const counts = [];
    const client = new Svcm(nc).client();
    for await (const stats of await client.stats(service)) {
      counts.push(
        (stats.endpoints ?? []).reduce(
          (sum, e) => sum + (e.num_requests ?? 0),
          0,
        ),
      );
    }
    return counts;
  } finally {
    await nc.close();
  }
}

/** Runs `count` calls of `method`, `inFlight` at a time; returns each outcome. */
async function callMany(
  request: () => Promise<unknown>,
  count: number,
  inFlight: number,
): Promise<PromiseSettledResult<unknown>[]> {
  const outcomes: PromiseSettledResult<unknown>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        next++;
        outcomes.push(
          await request().then(
            (value) => ({ status: "fulfilled", value }) as const,
            (reason) => ({ status: "rejected", reason }) as const,
          ),
        );
      }
    }),
  );
  return outcomes;
}

Deno.test("nats processes: two workers share 1,000 calls", async () => {
  await using server = await startNatsServer();
  await using a = await startWorker(server.url, "spread");
  await using b = await startWorker(server.url, "spread");
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "spread",
  });
  const outcomes = await within(
    callMany(() => calls.request("pid"), 1000, 32),
    "1,000 calls",
    120_000,
  );
  const byPid = new Map<unknown, number>();
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "fulfilled", String(outcome));
    if (outcome.status === "fulfilled") {
      byPid.set(outcome.value, (byPid.get(outcome.value) ?? 0) + 1);
    }
  }
  console.log("calls by worker pid:", Object.fromEntries(byPid));
  assert.deepEqual([...byPid.keys()].sort(), [a.pid, b.pid].sort());
  assert.equal(calls.stats().succeeded, 1000);
});

Deno.test("nats processes: a killed worker's calls time out, later calls all go to the other", async () => {
  await using server = await startNatsServer();
  await using doomed = await startWorker(server.url, "failover");
  await using survivor = await startWorker(server.url, "failover");
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "failover",
  });
  // 20 calls in flight, spread over both workers.
  const outcomes = Array.from(
    { length: 20 },
    () =>
      calls.request("sleep", { ms: 1500 }, { timeout: 8000 }).then(
        (value) => ({ value }),
        (error) => ({ error }),
      ),
  );
  await waitUntil(() => calls.stats().inFlight === 20, "the calls to be sent");
  let counts: number[] = [];
  await within(
    (async () => {
      do counts = await requestsByWorker(server.url, "failover"); while (
        counts.reduce((a, b) => a + b, 0) < 20
      );
    })(),
    "both workers to receive the calls",
  );
  assert.ok(counts.every((n) => n > 0), `calls per worker: ${counts}`);
  await doomed.kill();
  const results = await within(Promise.all(outcomes), "the 20 outcomes");
  const timedOut = results.filter((r) =>
    "error" in r && r.error instanceof IpcTimeoutError
  );
  const answered = results.filter((r) => "value" in r);
  assert.equal(timedOut.length + answered.length, 20, String(results));
  assert.ok(timedOut.length > 0 && answered.length > 0);
  assert.ok(answered.every((r) => "value" in r && r.value === survivor.pid));
  // Every later call goes to the survivor.
  const later = await callMany(() => calls.request("pid"), 200, 16);
  assert.ok(
    later.every((r) => r.status === "fulfilled" && r.value === survivor.pid),
  );
});

Deno.test("nats processes: a restarted worker is picked up with no change in the caller", async () => {
  await using server = await startNatsServer();
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "restart",
  });
  const first = await startWorker(server.url, "restart");
  assert.equal(await calls.request("pid"), first.pid);
  assert.equal((await first.stop()).code, 0); // drains and exits cleanly
  await assert.rejects(calls.request("pid"), IpcNoRespondersError);
  await using second = await startWorker(server.url, "restart");
  assert.equal(await calls.request("pid"), second.pid);
});

Deno.test("nats processes: the server restarting mid-run — calls in the gap fail clearly, then go on", async () => {
  await using server = await startNatsServer();
  await using worker = await startWorker(server.url, "bounce");
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "bounce",
  });
  assert.equal(await calls.request("pid"), worker.pid);
  await server.restart();
  // The clients reconnect on their own (every 2 s by default).
  const failures: unknown[] = [];
  await within(
    (async () => {
      for (;;) {
        try {
          if (await calls.request("pid", null, { timeout: 1000 })) return;
        } catch (error) {
          failures.push(error);
        }
      }
    })(),
    "calls to work again after the server restarted",
    60_000,
  );
  for (const error of failures) {
    assert.ok(
      error instanceof IpcTimeoutError || error instanceof IpcNoRespondersError,
      String(error),
    );
  }
  console.log(`${failures.length} call(s) failed during the restart`);
  const after = await callMany(() => calls.request("pid"), 50, 8);
  assert.ok(after.every((r) => r.status === "fulfilled"));
});

Deno.test("nats processes: an IpcPool behind serveNatsCalls", async () => {
  await using server = await startNatsServer();
  await using pool = new IpcPool({
    module: fixture("pool_worker.ts"),
    size: 2,
  });
  await using _worker = await serveNatsCalls(pool, {
    servers: server.url,
    service: "pooled",
    methods: ["pid", "sleep", "fail", "lines"],
  });
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "pooled",
  });
  const pids = new Set(
    await Promise.all(
      Array.from(
        { length: 40 },
        () => calls.request("sleep", { ms: 20 }),
      ),
    ),
  );
  assert.equal(pids.size, 2, `children seen: ${[...pids]}`);
  const error = await calls.request("fail", "from the child").catch((e) => e);
  assert.ok(error instanceof IpcRemoteError, String(error));
  assert.equal(error.remoteName, "RangeError");
  assert.equal(error.remoteMessage, "from the child");
  assert.match(error.remoteStack ?? "", /pool_worker\.ts/);
  // A generator handler is refused as on a channel, not answered with `{}`.
  const streamed = await calls.request("lines", { n: 2 }).catch((e) => e);
  assert.ok(streamed instanceof IpcRemoteError, String(streamed));
  assert.match(streamed.message, /it returned an async iterable/);
  // Cancelling reaches the pool's child.
  await assert.rejects(
    calls.request("sleep", { ms: 60_000 }, { timeout: 300 }),
    IpcTimeoutError,
  );
  await waitUntil(
    () => pool.stats().inFlight === 0,
    "the pool's call to be cancelled",
  );
  await assert.rejects(calls.request("nope"), IpcNoRespondersError);
});

Deno.test("nats processes: a pool behind each of two worker processes", async () => {
  await using server = await startNatsServer();
  await using _a = await startWorker(server.url, "members", "pool");
  await using _b = await startWorker(server.url, "members", "pool");
  await using calls = await connectNatsCalls({
    servers: server.url,
    service: "members",
  });
  const outcomes = await callMany(
    () => calls.request("sleep", { ms: 5 }),
    200,
    16,
  );
  const pids = new Set(
    outcomes.map((r) => r.status === "fulfilled" ? r.value : r.reason),
  );
  // Two members, two children each: four child processes answered.
  assert.equal(pids.size, 4, `answered by: ${[...pids]}`);
});
