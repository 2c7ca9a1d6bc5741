// Issue 14, part 1: every message whose send() was called before the process
// exits reaches the peer, in order, child → parent and parent → child; a
// peer that never reads does not keep the exit from happening, and stderr
// says how much was dropped.
import assert from "node:assert/strict";
import type { IpcChildStatus } from "../../mod.ts";
import { collect, fixture, spawnFixture, within } from "../helpers.ts";

const COUNTS = [10, 1_000, 100_000];
const MODES = ["await", "no-await"] as const;

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
 * Starts `exit_after_send_child.ts` with `args` (count, mode, end), checks
 * that all `count` messages arrive in order and the iterator ends cleanly,
 * and returns how the child ended.
 */
async function childSends(
  args: string[],
  flags: string[] = [],
): Promise<IpcChildStatus> {
  await using child = spawnFixture("exit_after_send_child.ts", args, {
    flags,
    serialization: args[4] === "advanced" ? "advanced" : "json",
  });
  const { messages, error } = await within(
    collect(child.ipc),
    "the messages",
    120_000,
  );
  assert.equal(error, undefined);
  assertAllInOrder(messages, Number(args[0]));
  return await child.status;
}

for (const count of COUNTS) {
  for (const mode of MODES) {
    Deno.test(`child → parent: ${count} ${mode} sends, then Deno.exit(0): all arrive in order`, async () => {
      const status = await childSends([String(count), mode, "exit"]);
      assert.equal(status.code, 0);
    });
  }
}

Deno.test("child → parent: 100000 un-awaited sends, then a normal exit: all arrive in order", async () => {
  await childSends(["100000", "no-await", "return"]);
});

Deno.test('child → parent, serialization "advanced": 100000 un-awaited sends, then Deno.exit(0): all arrive in order', async () => {
  await childSends(["100000", "no-await", "exit", "100", "advanced"]);
});

Deno.test("child → parent: Deno.exit(0) between timer ticks of sends, while writes are in flight: all arrive in order, none twice", async () => {
  for (let run = 0; run < 3; run++) {
    await childSends(["50000", "ticks", "exit"]);
  }
});

Deno.test("child → parent: after await flush() everything is with the OS: a SIGKILL right after loses nothing", async () => {
  const status = await childSends(["100000", "no-await", "flush-kill"], [
    "--allow-run",
  ]);
  assert.equal(status.signal, "SIGKILL");
});

/**
 * Runs `exit_after_send_parent.ts` with `args`: its exit code, stdout lines
 * (the child's stdout is the parent's) and stderr. With `killChild`, the
 * child (which would never end) is killed once the parent has exited.
 */
async function runParent(
  args: string[],
  killChild = false,
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const parent = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-run",
      "--allow-env",
      "--allow-read",
      fixture("exit_after_send_parent.ts"),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(parent.stderr).text();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  // The first line is the child's pid, written before anything is sent.
  while (!text.includes("\n")) {
    const { done, value } = await within(reader.read(), "the child's pid");
    if (done) break;
    text += value;
  }
  const { code } = await within(parent.status, "the parent to exit", 60_000);
  if (killChild) Deno.kill(JSON.parse(text.split("\n")[0]).pid, "SIGKILL");
  for (;;) {
    const { done, value } = await within(
      reader.read(),
      "the child to finish",
      120_000,
    );
    if (done) break;
    text += value;
  }
  return { code, lines: text.trim().split("\n"), stderr: await stderr };
}

for (const count of COUNTS) {
  for (const mode of MODES) {
    Deno.test(`parent → child: ${count} ${mode} sends, then Deno.exit(0): all arrive in order`, async () => {
      const { code, lines, stderr } = await runParent([
        "count_reader_child.ts",
        String(count),
        mode,
        "exit",
      ]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(lines.at(-1)!), {
        count,
        inOrder: true,
        error: null,
      });
    });
  }
}

Deno.test("parent → child: 100000 un-awaited sends, then a normal exit: all arrive in order", async () => {
  const { code, lines, stderr } = await runParent([
    "count_reader_child.ts",
    "100000",
    "no-await",
    "return",
  ]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(lines.at(-1)!), {
    count: 100_000,
    inOrder: true,
    error: null,
  });
});

Deno.test("child → parent: a parent that never reads does not keep the child from exiting; stderr says what was dropped", async () => {
  // 400 messages of 64 KiB, not awaited: far more than the socket holds.
  await using child = spawnFixture("exit_after_send_child.ts", [
    "400",
    "no-await",
    "exit",
    String(64 * 1024),
  ], { stderr: "piped", receiveBufferBytes: 64 * 1024 });
  const stderr = new Response(child.stderr).text();
  // The parent never iterates: the channel stops reading once its receive
  // buffer is full. The guard is many times the exit deadline.
  const status = await within(child.status, "the child to exit", 60_000);
  assert.equal(status.code, 0);
  assert.match(
    await stderr,
    /dropped \d+ bytes/,
  );
});

Deno.test("parent → child: a child that never reads does not keep the parent from exiting; stderr says what was dropped", async () => {
  const { code, lines, stderr } = await runParent([
    "stalled_reader_child.ts",
    "400",
    "no-await",
    "exit",
    String(64 * 1024),
  ], true);
  assert.equal(JSON.parse(lines[0]).pid > 0, true);
  assert.equal(code, 0);
  assert.match(stderr, /dropped \d+ bytes/);
});
