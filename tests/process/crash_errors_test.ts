// What a caller is told when the child dies under its call: the exit code or
// signal, once, instead of "the peer closed it" or "read ECONNRESET"; and
// which error a command that cannot start gives.
import assert from "node:assert/strict";
import {
  IpcChildExitedError,
  IpcClosedError,
  IpcPool,
  IpcSpawnError,
  spawnWithIpc,
} from "../../mod.ts";
import { fixture, spawnFixture, within } from "../helpers.ts";

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return await within(
    promise.then(() => assert.fail("it resolved"), (error) => error),
    "the rejection",
  );
}

function assertEnded(
  error: unknown,
  pid: number,
  code: number,
  signal: Deno.Signal | null,
): void {
  assert.ok(error instanceof IpcClosedError, String(error));
  assert.ok(error.cause instanceof IpcChildExitedError, String(error.cause));
  assert.equal(error.cause.pid, pid);
  assert.equal(error.cause.code, code);
  assert.equal(error.cause.signal, signal);
  assert.equal(error.cause.kind, "process");
  assert.equal(error.cause.method, undefined);
  assert.doesNotMatch(error.message, /ECONNRESET|the peer closed it/);
}

Deno.test("a call on a child that crashes rejects with its exit code", async () => {
  await using child = spawnFixture("crash_child.ts", ["throw", "0"], {
    stderr: "piped",
  });
  const stderr = new Response(child.stderr).text();
  const error = await rejection(child.ipc.request("anything"));
  assert.match(await stderr, /deliberate crash/);
  assertEnded(error, child.pid, 1, null);
  assert.match(
    (error as Error).message,
    /get an answer to the call "anything".*child process \d+ exited with code 1; its stderr may say why/,
  );
});

Deno.test("receive() on a child that crashed says why the channel closed", async () => {
  await using child = spawnFixture("crash_child.ts", ["throw", "1"], {
    stderr: "null",
  });
  assert.deepEqual(await within(child.ipc.receive(), "the message"), { i: 0 });
  const error = await rejection(child.ipc.receive());
  assertEnded(error, child.pid, 1, null);
  assert.match(
    (error as Error).message,
    /Cannot receive a message: .*exited with code 1/,
  );
});

Deno.test("a call on a child killed by a signal names the signal", async () => {
  await using child = spawnFixture("crash_child.ts", ["hang", "1"]);
  await within(child.ipc.receive(), "the first message");
  const calls = [child.ipc.request("a"), child.ipc.request("b")];
  child.kill("SIGKILL");
  const errors = await Promise.all(calls.map(rejection));
  for (const error of errors) assertEnded(error, child.pid, 137, "SIGKILL");
  assert.match(
    (errors[0] as Error).message,
    /was killed by SIGKILL \(code 137\)/,
  );
  // One event, one message: both calls tell the same story.
  assert.equal(
    (errors[0] as Error).message.replace('"a"', ""),
    (errors[1] as Error).message.replace('"b"', ""),
  );
});

Deno.test("a call on a child whose module is missing: exit code 1, not ECONNRESET", async () => {
  await using child = spawnWithIpc(Deno.execPath(), {
    args: ["run", "--quiet", fixture("no_such_module.ts")],
    stderr: "null",
  });
  const error = await rejection(child.ipc.request("go", { n: 1 }));
  assertEnded(error, child.pid, 1, null);
});

Deno.test('with stderr: "null", a crash says the stderr is discarded and how to see it, in a pool too', async () => {
  await using child = spawnFixture("crash_child.ts", ["throw", "0"], {
    stderr: "null",
  });
  const error = await rejection(child.ipc.request("anything"));
  assertEnded(error, child.pid, 1, null);
  assert.match(
    (error as Error).message,
    /stderr is discarded \(stderr: "null"\): pass stderr: "inherit" to see why/,
  );
  await using pool = new IpcPool({
    module: fixture("broken_worker.ts"),
    size: 1,
    stderr: "null",
  });
  const poolError = await rejection(pool.request("anything"));
  assert.ok(poolError instanceof IpcChildExitedError, String(poolError));
  assert.match(poolError.message, /exited with code 1 before answering/);
  assert.match(poolError.message, /pass stderr: "inherit" to see why/);
  assert.equal(poolError.kind, "process");
  assert.equal(poolError.method, "anything");
  assert.equal(poolError.code, 1);
  assert.equal(poolError.stderrHidden, true);
});

Deno.test("a child that exits with code 0 under a call: the error says so, not ECONNRESET", async () => {
  await using child = spawnFixture("crash_child.ts", ["exit", "0", "0"]);
  const error = await rejection(child.ipc.request("anything"));
  assert.ok(error instanceof IpcClosedError);
  assert.doesNotMatch(error.message, /ECONNRESET/);
  if (error.cause !== undefined) assertEnded(error, child.pid, 0, null);
  assert.equal((await child.status).code, 0);
});

Deno.test("a child that exits with code 0 after its messages: iteration ends cleanly", async () => {
  await using child = spawnFixture("crash_child.ts", ["exit", "2", "0"]);
  const messages = [];
  for await (const message of child.ipc) messages.push(message);
  assert.deepEqual(messages, [{ i: 0 }, { i: 1 }]);
  assert.equal(child.ipc.stats().errors, 0);
});

Deno.test("a missing command is ENOENT, a non-executable file EACCES, a missing cwd says so", () => {
  const thrown = (command: string, cwd?: string) => {
    try {
      spawnWithIpc(command, { cwd });
    } catch (error) {
      assert.ok(error instanceof IpcSpawnError, String(error));
      return error;
    }
    assert.fail(`${command} started`);
  };
  const missing = thrown("/no/such/program");
  assert.equal(missing.code, "ENOENT");
  assert.equal(missing.command, "/no/such/program");
  assert.match(
    missing.message,
    /Could not start "\/no\/such\/program" \(ENOENT\)/,
  );
  const notOnPath = thrown("no-such-program-on-path");
  assert.equal(notOnPath.code, "ENOENT");
  assert.match(notOnPath.message, /PATH/);
  const notExecutable = thrown(fixture("crash_child.ts"));
  assert.equal(notExecutable.code, "EACCES");
  assert.match(notExecutable.message, /not an executable file/);
  const directory = thrown(new URL("../fixtures", import.meta.url).pathname);
  assert.equal(directory.code, "EACCES");
  const noCwd = thrown(Deno.execPath(), "/no/such/dir");
  assert.equal(noCwd.code, "ENOENT");
  assert.match(
    noCwd.message,
    /working directory "\/no\/such\/dir" does not exist/,
  );
});
