// Handlers the caller gave up on (a timeout, an abort, a stream left early)
// in an IpcPool of real children and of workers: such a handler keeps its
// child's slot until it really ends, so later calls never wait behind it;
// a child whose abandoned handlers do not end is replaced; a call that did
// wait behind one says so; and request() of a generator handler is refused
// as on a channel.
import assert from "node:assert/strict";
import {
  IpcChildExitedError,
  IpcPool,
  type IpcPoolOptions,
  IpcRemoteError,
  IpcTimeoutError,
} from "../../mod.ts";
import { fixture, waitUntil, within } from "../helpers.ts";

const KINDS = ["process", "worker"] as const;
/** The first calls of a worker pool wait for the module's type check, slow on a loaded machine. */
const BOOT_MS = 180_000;

function pool(
  kind: "process" | "worker",
  options: Partial<IpcPoolOptions>,
): IpcPool {
  const workers = new IpcPool({
    kind,
    module: fixture("pool_worker.ts"),
    ...options,
  });
  // A failed test must not wait on a call that never ends.
  workers[Symbol.asyncDispose] = () => workers.close({ force: true });
  return workers;
}

/** Sums a figure over the pool's children. */
function sum(
  workers: IpcPool,
  figure: "inFlight" | "abandoned",
): number {
  return workers.stats().children.reduce(
    (total, child) => total + child[figure],
    0,
  );
}

for (const kind of KINDS) {
  Deno.test(`${kind} pool: a timed-out handler that ignores its signal keeps its slot, and the next 10 calls are all answered`, async () => {
    await using workers = pool(kind, { size: 2, timeout: 1000 });
    const boot = { timeout: BOOT_MS };
    await within(
      Promise.all([
        workers.request("pid", null, boot),
        workers.request("pid", null, boot),
      ]),
      "both children",
      BOOT_MS,
    );
    const error = await within(
      workers.request("hang").catch((e) => e),
      "the timeout",
    );
    assert.ok(error instanceof IpcTimeoutError, String(error));
    assert.equal(workers.stats().inFlight, 0, "no call of the caller runs");
    assert.equal(sum(workers, "inFlight"), 1, "the handler still runs");
    assert.equal(sum(workers, "abandoned"), 1);
    for (let i = 0; i < 10; i++) {
      await within(
        workers.request("concurrent", { ms: 1, value: i }, { timeout: 10_000 }),
        `quick call ${i}`,
      );
    }
  });

  Deno.test(`${kind} pool of 1, no timeout: a cancelled handler that never ends gets its child replaced, and the next call is answered`, async () => {
    await using workers = pool(kind, { size: 1 });
    const first = await within(workers.request("pid"), "the child", BOOT_MS);
    const controller = new AbortController();
    const hung = workers.request("hang", null, { signal: controller.signal });
    await waitUntil(() => workers.stats().inFlight === 1, "the call sent");
    controller.abort(new Error("no longer wanted"));
    assert.match(String(await hung.catch((e) => e)), /no longer wanted/);
    const next = await within(workers.request("pid"), "the next call");
    if (kind === "process") assert.notEqual(next, first, "a new child");
    assert.equal(workers.stats().retirements.abandoned, 1);
  });

  Deno.test(`${kind} pool: with killOnTimeout, a timeout says the child was killed, not that the call was cancelled there`, async () => {
    await using workers = pool(kind, { size: 1, killOnTimeout: true });
    await within(workers.request("pid"), "the child", BOOT_MS);
    const error = await within(
      workers.request("hang", null, { timeout: 300 }).catch((e) => e),
      "the timeout",
    );
    assert.ok(error instanceof IpcTimeoutError, String(error));
    assert.match(
      error.message,
      /^The call "hang" got no answer within its timeout of 300 ms from the child with pid \d+, which was killed \(killOnTimeout\) and is being replaced\./,
    );
    assert.doesNotMatch(error.message, /cancelled/);
  });

  Deno.test(`${kind} pool: request() of a generator handler is refused as on a channel, and the child serves on`, async () => {
    await using workers = pool(kind, { size: 1 });
    await within(workers.request("pid"), "the child", BOOT_MS);
    const error = await within(
      workers.request("lines", { n: 3 }).catch((e) => e),
      "the refusal",
    );
    assert.ok(error instanceof IpcRemoteError, String(error));
    assert.match(error.message, /call it with stream\(\) instead/);
    const lines = [];
    for await (const line of workers.stream("lines", { n: 3 })) {
      lines.push(line);
    }
    assert.deepEqual(lines, ["line 0", "line 1", "line 2"]);
    assert.equal(workers.stats().restarts, 0);
  });

  Deno.test(`${kind} pool: a stream left early holds its child's slot until its generator ends`, async () => {
    await using workers = pool(kind, { size: 1, concurrency: 1 });
    await within(workers.request("pid"), "the child", BOOT_MS);
    const stream = workers.stream("slowStream", { ms: 500 });
    assert.deepEqual(await within(stream.next(), "the first item"), {
      done: false,
      value: "first",
    });
    await stream.return(); // the generator goes on for 500 ms
    const answer = await within(
      workers.request<{ running: number }>("concurrent", { ms: 1, value: 0 }),
      "the next call",
    );
    assert.equal(answer.running, 1, "it never ran beside the generator");
  });
}

Deno.test("a handler that ignores its signal but ends counts on its child until it ends", async () => {
  await using workers = pool("process", { size: 1 });
  await within(workers.request("pid"), "the child");
  const error = await within(
    workers.request("ignoreSignal", { ms: 1500 }, { timeout: 100 }).catch((e) =>
      e
    ),
    "the timeout",
  );
  assert.ok(error instanceof IpcTimeoutError, String(error));
  assert.deepEqual(
    workers.stats().children.map(({ inFlight, abandoned }) => ({
      inFlight,
      abandoned,
    })),
    [{ inFlight: 1, abandoned: 1 }],
  );
  const answer = await within(
    workers.request<{ running: number }>("concurrent", { ms: 1, value: 0 }),
    "the next call",
  );
  assert.equal(answer.running, 1, "it never ran beside the abandoned handler");
  await waitUntil(() => sum(workers, "inFlight") === 0, "the handler's end");
  assert.equal(sum(workers, "abandoned"), 0);
});

Deno.test("a call that timed out waiting behind an abandoned handler says so", async () => {
  await using workers = pool("process", { size: 1 });
  await within(workers.request("pid"), "the child (prefetch agreed)");
  const hang = workers.request("hang", null, { timeout: 300 });
  const behind = workers.request("pid", null, { timeout: 1200 });
  assert.equal(workers.stats().inFlight, 2, "the second call was sent ahead");
  assert.ok((await hang.catch((e) => e)) instanceof IpcTimeoutError);
  const error = await within(behind.catch((e) => e), "the second timeout");
  assert.ok(error instanceof IpcTimeoutError, String(error));
  assert.match(
    error.message,
    /never started: it waited in the child .* behind the handler of "hang"/,
  );
});

Deno.test("a child whose every slot is held by a handler that never ends is killed; the call waiting behind rejects saying so", async () => {
  await using workers = pool("process", { size: 1 });
  const first = await within(workers.request("pid"), "the child");
  const hang = workers.request("hang", null, { timeout: 300 });
  const behind = workers.request("pid");
  assert.ok((await hang.catch((e) => e)) instanceof IpcTimeoutError);
  const error = await within(behind.catch((e) => e), "the waiting call");
  assert.ok(error instanceof IpcChildExitedError, String(error));
  assert.match(error.message, /"hang" still ran .* after its call/);
  const next = await within(workers.request("pid"), "a call after");
  assert.notEqual(next, first);
});
