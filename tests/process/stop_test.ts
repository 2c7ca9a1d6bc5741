// Stopping children for sure: escalation from SIGTERM to SIGKILL, disposal
// and abort that never wait without end, the status naming the signal that
// really ended the child, and graceful cancel.
import assert from "node:assert/strict";
import {
  type IpcChildProcess,
  type IpcChildStatus,
  stopChild,
} from "../../mod.ts";
import { fixture, isRunning, spawnFixture, within } from "../helpers.ts";

/** A child that ignores SIGTERM, once it said it is ready. */
async function stubborn(
  options: Parameters<typeof spawnFixture>[2] = {},
  args = ["stay", "ignore"],
): Promise<IpcChildProcess> {
  const child = spawnFixture("stubborn_child.ts", args, options);
  assert.deepEqual(await within(child.ipc.receive(), "ready"), { ready: true });
  return child;
}

Deno.test("kill(): SIGKILL after an ignored SIGTERM ends the child, and status says SIGKILL", async () => {
  await using child = await stubborn();
  assert.equal(child.kill("SIGTERM"), true);
  // The child ignores it: still running after its channel had time to tell.
  await child.ipc.send({ still: "there" });
  assert.ok(isRunning(child.pid));
  assert.equal(child.kill("SIGKILL"), true);
  assert.deepEqual(await within(child.status, "the child to die"), {
    success: false,
    code: 137,
    signal: "SIGKILL",
  });
});

Deno.test("kill() on an exited child returns false and does not throw", async () => {
  await using child = await stubborn({}, ["stay", "die"]);
  child.kill("SIGTERM");
  await within(child.status, "the child to die");
  assert.equal(child.kill(), false);
  assert.equal(child.kill("SIGKILL"), false);
});

Deno.test("await using a child that ignores SIGTERM returns: SIGKILL after killTimeout", async () => {
  let child: IpcChildProcess | undefined;
  await within(
    (async () => {
      await using stubbornChild = await stubborn({ killTimeout: 300 });
      child = stubbornChild;
    })(),
    "disposal to return",
  );
  assert.ok(child !== undefined);
  assert.equal((await child.status).signal, "SIGKILL");
  assert.ok(!isRunning(child.pid));
});

Deno.test("await using a child that obeys SIGTERM: status says SIGTERM", async () => {
  let child: IpcChildProcess | undefined;
  {
    await using obedient = await stubborn({}, ["stay", "die"]);
    child = obedient;
  }
  assert.equal((await child.status).signal, "SIGTERM");
});

Deno.test("aborting the signal kills a child that ignores SIGTERM", async () => {
  const controller = new AbortController();
  await using child = await stubborn({
    signal: controller.signal,
    killTimeout: 300,
  });
  controller.abort();
  assert.equal(
    (await within(child.status, "the child to die")).signal,
    "SIGKILL",
  );
});

Deno.test("stopChild(): SIGTERM first, SIGKILL only when it is ignored", async () => {
  const obedient = await stubborn({}, ["stay", "die"]);
  const stubbornChild = await stubborn();
  const [first, second] = await within(
    Promise.all([
      stopChild(obedient, { killTimeout: 10_000 }),
      stopChild(stubbornChild, { killTimeout: 300 }),
    ]),
    "both to stop",
  );
  assert.equal(first.signal, "SIGTERM");
  assert.equal(second.signal, "SIGKILL");
  // A child already gone: its status, no signal.
  assert.deepEqual(await stopChild(obedient), first);
  await obedient.ipc.close();
  await stubbornChild.ipc.close();
});

Deno.test("stopChild() refuses a killTimeout that would wait without end", async () => {
  await using child = await stubborn({}, ["stay", "die"]);
  await assert.rejects(
    stopChild(child, { killTimeout: Infinity }),
    RangeError,
  );
  await assert.rejects(stopChild(child, { killTimeout: 0 }), RangeError);
});

/**
 * Starts a stubborn child with graceful cancel, aborts with `reason`, and
 * returns what the child said about the cancel and how it ended.
 */
async function cancel(
  args: string[],
  reason: unknown,
  killTimeout: number,
): Promise<{ said: unknown; status: IpcChildStatus }> {
  const controller = new AbortController();
  await using child = await stubborn({
    signal: controller.signal,
    gracefulCancel: true,
    killTimeout,
  }, args);
  controller.abort(reason);
  const said = await within(child.ipc.receive(), "the cancel");
  return { said, status: await within(child.status, "the child to end") };
}

Deno.test("graceful cancel: the child sees the reason and exits by itself", async () => {
  const { said, status } = await cancel(
    ["exit", "ignore"],
    new RangeError("the user pressed stop"),
    10_000,
  );
  assert.deepEqual(said, {
    cancelled: { name: "RangeError", message: "the user pressed stop" },
  });
  assert.deepEqual(status, { success: true, code: 0, signal: null });
});

/** The user's code that cancels, named so its frame can be found. */
function pressStop(): Error {
  return new RangeError("the user pressed stop");
}

Deno.test("graceful cancel: the reason's stack in the child is the parent's, without the library's frames", async () => {
  const library = new URL("../../src/", import.meta.url).href;
  const frames = (stack: string) =>
    stack.split("\n").filter((line) => /^\s+at /.test(line));
  const { said } = await cancel(
    ["exit", "ignore", "stack"],
    pressStop(),
    10_000,
  );
  const { stack } = said as { stack: string };
  assert.match(stack, /^RangeError: the user pressed stop\n/);
  assert.match(frames(stack)[0], /at pressStop .*stop_test\.ts:/);
  assert.deepEqual(
    frames(stack).filter((line) => line.includes(library)),
    [],
    stack,
  );
  // The default AbortError: the frames of the runtime's abort() go too.
  const aborted = await cancel(["exit", "ignore", "stack"], undefined, 10_000);
  const abortStack = (aborted.said as { stack: string }).stack;
  assert.match(abortStack, /^AbortError: The signal has been aborted\n/);
  assert.match(frames(abortStack)[0], /stop_test\.ts:/);
  assert.deepEqual(
    frames(abortStack).filter((line) =>
      line.includes(library) || line.includes("ext:")
    ),
    [],
    abortStack,
  );
});

// killTimeout 1500: time for the child to report the cancel before SIGTERM.
Deno.test("graceful cancel: a JSON reason arrives as is; a child that stays gets SIGTERM", async () => {
  const reason = { why: "deadline", after: 3 };
  const { said, status } = await cancel(["stay", "die"], reason, 1500);
  assert.deepEqual(said, { cancelled: reason });
  assert.equal(status.signal, "SIGTERM");
});

Deno.test("graceful cancel: a child that stays and ignores SIGTERM gets SIGKILL", async () => {
  const { said, status } = await cancel(["stay", "ignore"], undefined, 1500);
  assert.deepEqual(said, {
    cancelled: { name: "AbortError", message: "The signal has been aborted" },
  });
  assert.equal(status.signal, "SIGKILL");
});

Deno.test("without gracefulCancel, abort sends SIGTERM at once: no cancel notification", async () => {
  const controller = new AbortController();
  await using child = await stubborn({
    signal: controller.signal,
    killTimeout: 60_000,
  }, ["exit", "die"]);
  controller.abort("stop");
  assert.equal(
    (await within(child.status, "the child to die")).signal,
    "SIGTERM",
  );
});

Deno.test("graceful cancel to a child that never asked for its cancel signal: a plain message, then SIGTERM", async () => {
  const controller = new AbortController();
  await using child = spawnFixture("echo_child.ts", [], {
    signal: controller.signal,
    gracefulCancel: true,
    killTimeout: 5000,
  });
  // Abort only once the child is up: a slow start must not race the SIGTERM.
  await child.ipc.send("up");
  assert.deepEqual(await within(child.ipc.receive(), "the first echo"), {
    echo: "up",
  });
  controller.abort("stop");
  assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
    echo: {
      jsonrpc: "2.0",
      method: "$/cancelProcess",
      params: { reason: "stop" },
    },
  });
  assert.equal(
    (await within(child.status, "the child to die")).signal,
    "SIGTERM",
  );
});

Deno.test("spawnWithIpc() refuses a killTimeout that is not a positive, finite number", () => {
  for (const killTimeout of [0, -1, Infinity, NaN]) {
    assert.throws(
      () => spawnFixture("echo_child.ts", [], { killTimeout }),
      RangeError,
      String(killTimeout),
    );
  }
  assert.throws(
    // @ts-expect-error: a string is refused
    () => spawnFixture("echo_child.ts", [], { killTimeout: "5s" }),
    TypeError,
  );
});

Deno.test("with --allow-run limited to some commands, a child that ignores SIGTERM is still killed", async () => {
  const { code, stdout, stderr } = await within(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-env",
        "--allow-read",
        `--allow-run=${Deno.execPath()}`,
        fixture("restricted_run_parent.ts"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output(),
    "the parent",
  );
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const report = JSON.parse(text);
  assert.notEqual(report.run, "granted", "Deno.kill is refused there");
  assert.equal(report.status.signal, "SIGKILL");
});
