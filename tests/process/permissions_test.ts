// A child gets exactly the permissions its parent gives it, none by default,
// and the channel needs none; the parent is told clearly what it lacks.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { spawnWithIpc } from "../../mod.ts";
import { fixture, spawnFixture, within } from "../helpers.ts";

interface Report {
  granted: string[];
  args: string[];
}

Deno.test("premise: node:child_process alone gives a Deno child every permission", async () => {
  const child = spawn(
    Deno.execPath(),
    ["run", fixture("permissions_child.ts")],
    {
      stdio: ["ignore", "inherit", "inherit", "pipe"],
      env: { IPC_CHANNEL_FD: "3" },
    },
  );
  let text = "";
  child.stdio[3]!.on(
    "data",
    (chunk: Uint8Array) => text += new TextDecoder().decode(chunk),
  );
  await within(
    new Promise((resolve) => child.on("close", resolve)),
    "the child",
  );
  const report: Report = JSON.parse(text);
  assert.ok(
    report.granted.includes("run") && report.granted.includes("write"),
    "Deno no longer widens the permissions of a child started by node:child_process; " +
      "the workaround in commandWithoutImplicitPermissions (src/process/spawn_with_ipc.ts) may be unnecessary",
  );
});

Deno.test("a Deno child started with no permission flags gets no permissions", async () => {
  await using child = spawnFixture<Report>("permissions_child.ts", ["an-arg"]);
  const report = await within(child.ipc.receive(), "the report");
  assert.deepEqual(report, { granted: [], args: ["an-arg"] });
  assert.equal((await child.status).code, 0);
});

Deno.test("a Deno child given as a file URL gets no permissions either", async () => {
  const url = new URL(`file://${Deno.execPath()}`);
  await using child = spawnWithIpc<Report>(url, {
    args: ["run", fixture("permissions_child.ts")],
  });
  assert.deepEqual(await within(child.ipc.receive(), "the report"), {
    granted: [],
    args: [],
  });
});

Deno.test("a Deno child gets exactly the flags it is given", async () => {
  await using child = spawnFixture<Report>("permissions_child.ts", [], {
    flags: ["--allow-read", "--allow-env=HOME"],
  });
  assert.deepEqual(await within(child.ipc.receive(), "the report"), {
    granted: ["read"],
    args: [],
  });
});

Deno.test("a child with --allow-env finds the channel through IPC_CHANNEL_FD", async () => {
  await using child = spawnFixture("echo_child.ts", [], {
    flags: ["--allow-env"],
  });
  await child.ipc.send("via env");
  assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
    echo: "via env",
  });
});

async function runAlone(args: string[], shell = false): Promise<string> {
  const command = shell
    ? new Deno.Command("sh", {
      args: ["-c", args.join(" ")],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    })
    : new Deno.Command(Deno.execPath(), {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    });
  const { stdout } = await within(
    command.output(),
    `${args.join(" ")} to finish`,
  );
  return new TextDecoder().decode(stdout).trim();
}

Deno.test("connectParentIpc() in a process started without a channel throws, without hanging", async () => {
  const script = fixture("no_channel_child.ts");
  // No permissions: fd 3 is the runtime's own descriptor, not a socket.
  assert.equal(
    await runAlone(["run", "--quiet", script]),
    "IpcChannelNotFoundError",
  );
  // With --allow-env: IPC_CHANNEL_FD is not set.
  assert.equal(
    await runAlone(["run", "--quiet", "--allow-env", script]),
    "IpcChannelNotFoundError",
  );
  // fd 3 is a file.
  assert.equal(
    await runAlone([
      `exec "${Deno.execPath()}" run --quiet "${script}" 3</dev/null`,
    ], true),
    "IpcChannelNotFoundError",
  );
});

Deno.test("a parent without --allow-env is told what to add, and nothing prompts", async () => {
  const output = await runAlone([
    "run",
    "--quiet",
    "--allow-run",
    fixture("spawn_without_env_parent.ts"),
  ]);
  assert.match(output, /^NotCapable: spawnWithIpc\(\) needs --allow-env/);
});
