// Issue 20, item 5: a child that dies of an uncaught exception or rejection
// after sending still delivers everything it sent, in order; the parent
// sees its exit status, never a protocol error, also when the child was
// cut off in the middle of a message.
import assert from "node:assert/strict";
import { IpcChildExitedError, IpcClosedError } from "../../mod.ts";
import { collect, spawnFixture, waitUntil, within } from "../helpers.ts";

const COUNT = 100_000;

/** Checks that `messages` are `{ i: 0 }`, `{ i: 1 }`… up to `count`. */
function assertAllInOrder(messages: unknown[], count: number): void {
  assert.equal(
    messages.length,
    count,
    `received ${messages.length} of ${count}`,
  );
  messages.forEach((message, index) => {
    const { i } = message as { i: number };
    if (i !== index) assert.fail(`message ${index} has i = ${i}`);
  });
}

/**
 * Runs `crash_after_send_child.ts`, which sends 100,000 messages without
 * awaiting them and then dies as `how` says, and checks that all of them
 * arrive in order, that the iterator ends cleanly, and that the child exits
 * with code 1 and Deno's own error message. The parent reads nothing while
 * the child writes (its reading is paused behind the unread 100 KiB ready
 * message), and resumes once the child is dying, so the exit flush has most
 * of it to write. (A reader racing the writes: exit_flush_test.ts, "sockets
 * full".)
 */
async function crashAfterSend(how: string, stderrLine: RegExp): Promise<void> {
  await using child = spawnFixture("crash_after_send_child.ts", [how], {
    stdout: "piped",
    stderr: "piped",
    receiveBufferBytes: 64 * 1024,
    env: { NO_COLOR: "1" },
  });
  const stderr = new Response(child.stderr).text();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  await waitUntil(
    () => child.ipc.stats().messagesIn === 1,
    "the ready message",
  );
  await child.ipc.send("go");
  let out = "";
  while (!out.includes("dying\n")) {
    const { done, value } = await within(stdout.read(), "the child to die");
    if (done) break;
    out += value;
  }
  const { messages, error } = await within(
    collect(child.ipc),
    "the messages",
    120_000,
  );
  assert.equal(error, undefined);
  assert.equal((messages[0] as { ready: string }).ready.length, 100 * 1024);
  assertAllInOrder(messages.slice(1), COUNT);
  assert.deepEqual(await child.status, {
    success: false,
    code: 1,
    signal: null,
  });
  while (!(await stdout.read()).done) { /* the child's stdout, to its end */ }
  // The process died the way Deno makes it die: its message, nothing more.
  const text = await stderr;
  assert.match(text, stderrLine);
  assert.doesNotMatch(text, /@tether\/ipc/);
}

Deno.test("a child that sends 100000 messages, then throws at top level: all arrive in order, then its exit status", async () => {
  await crashAfterSend(
    "throw",
    /^error: Uncaught \(in promise\) Error: crash_after_send_child: deliberate crash\n/,
  );
});

Deno.test("a child that sends 100000 messages, then leaves a rejection unhandled: all arrive in order, then its exit status", async () => {
  await crashAfterSend(
    "reject",
    /^error: Uncaught \(in promise\) Error: crash_after_send_child: deliberate crash\n/,
  );
});

Deno.test("a child that sends 100000 messages, then throws in a timer callback: all arrive in order, then its exit status", async () => {
  await crashAfterSend(
    "callback",
    /^error: Uncaught Error: crash_after_send_child: deliberate crash\n/,
  );
});

Deno.test("a listener added after the channel that handles the error: all arrive once, in order, then the channel closes and says why", async () => {
  await using child = spawnFixture("crash_after_send_child.ts", ["handled"], {
    stdout: "piped",
    receiveBufferBytes: 64 * 1024,
  });
  const stdout = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  await waitUntil(
    () => child.ipc.stats().messagesIn === 1,
    "the ready message",
  );
  await child.ipc.send("go");
  let out = "";
  while (!out.includes("dying\n")) {
    const { done, value } = await within(stdout.read(), "the rejection");
    if (done) break;
    out += value;
  }
  // The channel wrote everything on the way out; as the process went on, it
  // closed rather than let its socket write the slices in flight again.
  const { messages, error } = await within(
    collect(child.ipc),
    "the messages",
    120_000,
  );
  assert.equal(error, undefined);
  assertAllInOrder(messages.slice(1), COUNT);
  for (;;) {
    const { done, value } = await within(stdout.read(), "the child's output");
    if (done) break;
    out += value;
  }
  assert.match(out, /one more send: IpcClosedError: .*preventDefault\(\)/);
  assert.equal((await child.status).code, 0);
});

/**
 * Runs `raw_writer_child.ts` with `scenario` (two messages, then half of a
 * third, then the child dies) and returns the messages, the iterator's
 * error, the child's status and the error `receive()` gives afterwards.
 */
async function cutOff(scenario: string, flags: string[] = []) {
  await using child = spawnFixture("raw_writer_child.ts", [scenario], {
    flags,
    stderr: "null",
  });
  const { messages, error } = await within(collect(child.ipc), "the messages");
  const status = await child.status;
  const closed = await child.ipc.receive().catch((error) => error);
  return { messages, error, status, closed };
}

Deno.test("a child killed in the middle of a message: the messages before it arrive, then iteration ends and status has the signal", async () => {
  const { messages, error, status, closed } = await cutOff("truncated-kill", [
    "--allow-run",
  ]);
  assert.deepEqual(messages, [{ n: 1 }, { n: 2 }]);
  assert.equal(error, undefined);
  assert.equal(status.signal, "SIGKILL");
  assert.ok(closed instanceof IpcClosedError, String(closed));
  assert.ok(closed.cause instanceof IpcChildExitedError, String(closed.cause));
  assert.match(closed.message, /killed by SIGKILL.*message #2,.*is lost/);
});

Deno.test("a child that crashes in the middle of a message: the messages before it arrive, then iteration ends and status has the code", async () => {
  const { messages, error, status, closed } = await cutOff("truncated-crash");
  assert.deepEqual(messages, [{ n: 1 }, { n: 2 }]);
  assert.equal(error, undefined);
  assert.deepEqual(status, { success: false, code: 1, signal: null });
  assert.ok(closed instanceof IpcClosedError, String(closed));
  assert.match(closed.message, /exited with code 1.*message #2,.*is lost/);
});
