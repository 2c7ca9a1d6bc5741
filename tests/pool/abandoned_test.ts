// Handlers the caller gave up on (a timeout, an abort, a stream left early)
// in an IpcPool of real children and of workers: such a handler keeps its
// child's slot until it really ends, so later calls never wait behind it;
// a child whose abandoned handlers do not end is replaced; a call that did
// wait behind one says so; and request() of a generator handler is refused
// as on a channel.
import assert from "node:assert/strict";
import { IpcPool, type IpcPoolOptions, IpcRemoteError } from "../../mod.ts";
import { fixture, within } from "../helpers.ts";

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

for (const kind of KINDS) {
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
