// The daemon example with two clients at once, as the README runs it, in a
// temporary directory instead of /tmp/tether-ipc-demo.
import assert from "node:assert/strict";
import { within } from "../helpers.ts";
import { tempSocket } from "../net_helpers.ts";
import { daemonFlags, example, runDaemonClient } from "./daemon_demo.ts";

Deno.test("examples/daemon.ts serves two examples/daemon_client.ts at once, and stops on SIGTERM", async () => {
  using temp = tempSocket();
  const dir = `${temp.dir}/demo`;
  const flags = daemonFlags(dir);
  const daemon = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, example("daemon.ts"), `dir=${dir}`],
    stdout: "piped",
  }).spawn();
  const lines = daemon.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await within(lines.read(), "the daemon to listen");
  assert.match(first.value ?? "", /listening on .*daemon\.sock/);
  assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
  assert.equal(Deno.statSync(`${dir}/daemon.key`).mode! & 0o777, 0o600);

  const clients = ["alice", "bob"].map(async (name) => {
    const { code, output } = await runDaemonClient(dir, name);
    assert.equal(code, 0, output);
    const mine = output.match(new RegExp(`\\(\\+\\d by ${name}\\)`, "g"));
    assert.equal(mine?.length, 5, output);
    assert.match(output, new RegExp(`${name}: done\\n$`));
  });
  await within(Promise.all(clients), "both clients");

  daemon.kill("SIGTERM");
  let rest = "";
  for (;;) {
    const { value, done } = await within(lines.read(), "the daemon's output");
    if (done) break;
    rest += value;
  }
  const status = await daemon.status;
  assert.equal(status.code, 0, rest);
  assert.match(rest, /alice connected/);
  assert.match(rest, /bob connected/);
  assert.match(rest, /daemon stopped\n$/);
  assert.throws(
    () => Deno.lstatSync(`${dir}/daemon.sock`),
    Deno.errors.NotFound,
  );
});
