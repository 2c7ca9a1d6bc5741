// Issue 14, part 1: every message whose send() was called before the process
// exits reaches the peer, in order, child → parent and parent → child; a
// peer that never reads does not keep the exit from happening, and stderr
// says how much was dropped.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type net from "node:net";
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

/**
 * Reads newline-delimited `{ i }` messages from `socket` until it closes and
 * says what was wrong with them: a message twice or out of order, a line that
 * is not JSON (a slice written twice cuts a message), or fewer than `count`.
 * Reads as fast as it can, so that it makes room in the socket while the
 * child is handing over a write.
 */
function checkSequence(socket: net.Socket, count: number): Promise<string> {
  return new Promise((resolve) => {
    let rest = "";
    let next = 0;
    let problem = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        if (problem !== "") return;
        let i: unknown;
        try {
          i = JSON.parse(line).i;
        } catch {
          problem = `a line that is not JSON after message ${next - 1}`;
          return;
        }
        if (i !== next) problem = `message ${i} after message ${next - 1}`;
        else next++;
      }
    });
    socket.on("close", () => {
      if (problem === "" && next !== count) {
        problem = `${next} messages of ${count}`;
      }
      resolve(problem);
    });
  });
}

Deno.test("child → parent: sockets full while the child writes, then Deno.exit(0) at once: no message twice, none missing", async () => {
  // Each channel is one chance for the reader to make room while a write is
  // being handed over, the moment a pipe handle reports a written slice as
  // pending (issue 20); 16 channels in each of 3 children.
  const channels = 16;
  const count = 5_000;
  for (let run = 0; run < 3; run++) {
    const child = spawn(Deno.execPath(), [
      "run",
      "--quiet",
      fixture("exit_race_child.ts"),
      String(channels),
      String(count),
      run === 1 ? "throw" : "exit",
    ], {
      stdio: ["ignore", "ignore", "ignore", ...Array(channels).fill("pipe")],
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", resolve)
    );
    const problems = await within(
      Promise.all(
        Array.from(
          { length: channels },
          (_, k) => checkSequence(child.stdio[3 + k] as net.Socket, count),
        ),
      ),
      "the messages",
      60_000,
    );
    const code = await within(exited, "the child to exit");
    assert.deepEqual(
      problems.flatMap((problem, k) =>
        problem === "" ? [] : [`channel ${k}: ${problem}`]
      ),
      [],
      `run ${run}`,
    );
    assert.equal(code, run === 1 ? 1 : 0);
  }
});

Deno.test("parent → child: sockets full while the parent writes, then Deno.exit(0) at once: no message twice, none missing", async () => {
  // The same race on the parent's end of the channel: 8 children (fast
  // Python readers) in each of 3 parents.
  const children = 8;
  const count = 5_000;
  for (let run = 0; run < 3; run++) {
    const { code, stdout, stderr } = await within(
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--allow-run",
          "--allow-env",
          "--allow-read",
          fixture("exit_race_parent.ts"),
          String(children),
          String(count),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output(),
      "the parent and its children",
      90_000,
    );
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const got = new TextDecoder().decode(stdout).trim().split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      got,
      Array(children).fill({ count, problem: null }),
      `run ${run}`,
    );
  }
});
