// How children start, end and fail, and what the parent sees: exit codes,
// crashes, signals, grandchildren holding the channel, orphans, descriptors.
import assert from "node:assert/strict";
import { IpcSpawnError, spawnWithIpc } from "../../mod.ts";
import {
  collect,
  isRunning,
  openFdCount,
  spawnFixture,
  waitUntil,
  within,
} from "../helpers.ts";

Deno.test("a child that crashes: every message it sent arrives, then iteration ends and status has the code", async () => {
  await using child = spawnFixture("crash_child.ts", ["throw", "5"], {
    stderr: "null",
  });
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.equal(error, undefined);
  assert.deepEqual(messages, [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }, {
    i: 4,
  }]);
  assert.deepEqual(await child.status, {
    success: false,
    code: 1,
    signal: null,
  });
});

Deno.test("a child's exit code reaches status", async () => {
  await using child = spawnFixture("crash_child.ts", ["exit", "2", "42"]);
  const { messages } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ i: 0 }, { i: 1 }]);
  assert.deepEqual(await child.status, {
    success: false,
    code: 42,
    signal: null,
  });
});

Deno.test("a killed child: iteration ends and status reports the signal", async () => {
  await using child = spawnFixture("crash_child.ts", ["hang", "1"]);
  assert.deepEqual(await within(child.ipc.receive(), "the first message"), {
    i: 0,
  });
  child.kill("SIGKILL");
  const { error } = await within(collect(child.ipc), "the end of the messages");
  assert.equal(error, undefined);
  assert.deepEqual(await child.status, {
    success: false,
    code: 137,
    signal: "SIGKILL",
  });
  assert.equal(child.kill(), false);
});

Deno.test("a grandchild holding fd 3 does not keep the parent's iterator open after the child exits", async () => {
  await using child = spawnFixture("grandchild_child.ts", [], {
    flags: ["--allow-run=sleep"],
  });
  const first = await within(child.ipc.receive(), "the grandchild's pid") as {
    grandchild: number;
  };
  const grandchild = first.grandchild;
  try {
    // The premise: the grandchild really holds the channel's socket.
    const fd3 = new Deno.Command("readlink", {
      args: [`/proc/${grandchild}/fd/3`],
    }).outputSync();
    assert.match(new TextDecoder().decode(fd3.stdout), /^socket:/);
    const { messages, error } = await within(
      collect(child.ipc),
      "the iterator to end",
    );
    assert.equal(error, undefined);
    assert.deepEqual(messages, ["bye"]);
    assert.deepEqual(await child.status, {
      success: true,
      code: 0,
      signal: null,
    });
    assert.ok(
      isRunning(grandchild),
      "the grandchild still runs and holds the socket",
    );
  } finally {
    Deno.kill(grandchild, "SIGKILL");
  }
});

Deno.test("when the parent dies, the orphaned child's iterator ends and it exits", async () => {
  await using parent = spawnFixture("orphan_parent.ts", [], {
    flags: ["--allow-run", "--allow-env"],
  });
  const { childPid } = await within(
    parent.ipc.receive(),
    "the child's pid",
  ) as { childPid: number };
  assert.ok(isRunning(childPid));
  parent.kill("SIGKILL");
  await within(parent.status, "the parent to die");
  await waitUntil(() => !isRunning(childPid), "the orphaned child to exit");
});

Deno.test("when the parent dies of an uncaught exception, the orphaned child gets what was sent, sees its channel end, and exits", async () => {
  // Deno would SIGKILL the child as the parent dies (it does after an
  // uncaught error, not after Deno.exit() or a signal).
  await using parent = spawnFixture("orphan_parent.ts", ["throw"], {
    flags: ["--allow-run", "--allow-env"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  // The child writes to the parent's stdout, which ends once both are gone.
  const stdout = new Response(parent.stdout).text();
  const stderr = new Response(parent.stderr).text();
  const { childPid } = await within(
    parent.ipc.receive(),
    "the child's pid",
  ) as { childPid: number };
  assert.equal((await within(parent.status, "the parent to die")).code, 1);
  assert.match(
    await stderr,
    /^error: Uncaught \(in promise\) Error: orphan_parent: deliberate crash/,
  );
  assert.deepEqual((await within(stdout, "the child's output")).split("\n"), [
    '"ping"',
    '"last words"',
    "the channel ended",
    "",
  ]);
  await waitUntil(() => !isRunning(childPid), "the orphaned child to exit");
});

Deno.test("a parent that survives an error a later listener handles still waits for its child", async () => {
  // The children were released for an exit that did not come.
  await using parent = spawnFixture("orphan_parent.ts", ["handled"], {
    flags: ["--allow-run", "--allow-env"],
    stdout: "piped",
  });
  const stdout = new Response(parent.stdout).text();
  await within(parent.ipc.receive(), "the child's pid");
  assert.equal((await within(parent.status, "the parent to end")).code, 0);
  assert.equal(await within(stdout, "its output"), "the child exited: 0\n");
});

Deno.test("spawning and finishing hundreds of children: the parent's descriptors do not grow with them", async () => {
  const roundTrip = async () => {
    const child = spawnFixture("echo_child.ts");
    await child.ipc.send("hi");
    await child.ipc.receive();
    await child.ipc.close();
    await child.status;
  };
  const kill = async () => {
    const child = spawnFixture("crash_child.ts", ["hang", "1"]);
    await child.ipc.receive();
    child.kill("SIGKILL");
    await child.status;
    await child.ipc.closed;
  };
  /** 50 children, 15 of them killed; then the descriptor count. */
  const fifty = async () => {
    for (let i = 0; i < 35; i++) await within(roundTrip(), `child ${i}`);
    for (let i = 0; i < 15; i++) await within(kill(), `killed child ${i}`);
    return openFdCount();
  };
  const start = openFdCount();
  const mid = await fifty();
  const end = await fifty();
  const figures =
    `${start} at the start, ${mid} after 50 children, ${end} after 100`;
  console.log(`descriptors: ${figures}`);
  // A leak grows over the second fifty as over the first (one descriptor
  // kept per child adds 50, per killed child 15; injected to check); what the
  // runtime opens once stays in the first fifty. Seen: +0..3 in all.
  assert.ok(end - mid < 8, `descriptors grew: ${figures}`);
});

Deno.test("await using kills a running child and closes the channel", async () => {
  let pid = 0;
  let closed: Promise<void> | undefined;
  {
    await using child = spawnFixture("crash_child.ts", ["hang", "1"]);
    pid = child.pid;
    closed = child.ipc.closed;
    await child.ipc.receive();
  }
  assert.ok(!isRunning(pid));
  await within(closed, "the channel to close");
});

Deno.test("aborting the signal kills the child", async () => {
  const controller = new AbortController();
  await using child = spawnFixture("crash_child.ts", ["hang", "1"], {
    signal: controller.signal,
  });
  await child.ipc.receive();
  controller.abort();
  assert.deepEqual(await within(child.status, "the child to die"), {
    success: false,
    code: 143,
    signal: "SIGTERM",
  });
});

Deno.test("an already aborted signal kills the child at once", async () => {
  await using child = spawnFixture("crash_child.ts", ["hang", "1"], {
    signal: AbortSignal.abort(),
  });
  assert.equal(
    (await within(child.status, "the child to die")).signal,
    "SIGTERM",
  );
});

Deno.test("a command that does not exist throws IpcSpawnError", () => {
  const error = (() => {
    try {
      spawnWithIpc("/no/such/program");
    } catch (error) {
      return error;
    }
  })();
  assert.ok(error instanceof IpcSpawnError);
  assert.equal(error.command, "/no/such/program");
  assert.match(error.message, /Could not start "\/no\/such\/program"/);
});

Deno.test("stdin, stdout and stderr can be piped as Web streams; unpiped ones throw", async () => {
  await using child = spawnWithIpc("sh", {
    args: ["-c", 'read line; echo "out:$line"; echo "err:$IPC_CHANNEL_FD" >&2'],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("hello\n"));
  await writer.close();
  const [out, err] = await within(
    Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]),
    "the output",
  );
  assert.equal(out, "out:hello\n");
  assert.equal(err, "err:3\n");
  assert.equal((await child.status).code, 0);

  await using quiet = spawnWithIpc("true");
  assert.throws(() => quiet.stdout, /not piped/);
  assert.throws(() => quiet.stdin, /not piped/);
});

Deno.test("env, clearEnv and cwd reach the child", async () => {
  await using child = spawnWithIpc("sh", {
    args: [
      "-c",
      'printf "%s|%s|%s|%s" "$GREETING" "$HOME" "$(pwd)" "$NODE_CHANNEL_FD"',
    ],
    env: { GREETING: "hi" },
    clearEnv: true,
    cwd: new URL("file:///tmp"),
    stdout: "piped",
  });
  assert.equal(await new Response(child.stdout).text(), "hi||/tmp|");
});

Deno.test("a child that runs and exits without the channel ends the parent's iterator", async () => {
  await using child = spawnWithIpc("true");
  const { messages, error } = await within(
    collect(child.ipc),
    "the iterator to end",
  );
  assert.deepEqual([messages, error], [[], undefined]);
  assert.equal((await child.status).code, 0);
});
